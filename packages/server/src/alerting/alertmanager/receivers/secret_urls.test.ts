// Chat integrations keep their token in the URL (Alertmanager's SecretURL): a failed notification
// names the integration's URL as `<secret>`, since the error goes to logs and the history API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAlertmanagerConfig } from '../config.js';
import { templateData } from '../template.js';
import { createIntegration } from './index.js';

// Port 1 refuses connections, so each notification fails at once with a network error.
const CONFIG = `
route: { receiver: chat }
receivers:
  - name: chat
    slack_configs: [{ api_url: 'http://127.0.0.1:1/services/T0/SLACK-TOKEN', channel: '#a' }]
    discord_configs: [{ webhook_url: 'http://127.0.0.1:1/api/webhooks/1/DISCORD-TOKEN' }]
    msteams_configs: [{ webhook_url: 'http://127.0.0.1:1/webhookb2/TEAMS-TOKEN' }]
`;

test('a failed chat notification shows its URL as <secret>', async () => {
  const cfg = parseAlertmanagerConfig(CONFIG, 'am.yml');
  const data = templateData({ receiver: 'chat', groupKey: '{}', groupLabels: {}, externalURL: 'http://vigil', alerts: [], now: 0 });
  for (const ic of cfg.receivers[0]!.integrations) {
    const err = await createIntegration(ic, () => 0)
      .notify(data, new AbortController().signal)
      .then(
        () => assert.fail(`${ic.type} notified a closed port`),
        (e: unknown) => e as Error,
      );
    assert.match(err.message, /^POST <secret>: /, ic.type);
    assert.doesNotMatch(err.message, /TOKEN/, ic.type);
  }
});

test('a malformed secret URL is not quoted in the configuration error', () => {
  for (const field of [
    'slack_configs: [{ api_url: "hooks.slack.com/services/T0/SLACK-TOKEN", channel: "#a" }]',
    'discord_configs: [{ webhook_url: "discord.com/api/webhooks/1/DISCORD-TOKEN" }]',
  ]) {
    const text = `route: { receiver: r }\nreceivers:\n  - name: r\n    ${field}\n`;
    assert.throws(
      () => parseAlertmanagerConfig(text, 'am.yml'),
      (err: Error) => /unsupported URL <secret>/.test(err.message) && !/TOKEN/.test(err.message),
    );
  }
});
