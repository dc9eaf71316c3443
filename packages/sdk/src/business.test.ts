import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVigil } from './vigil.js';
import { captureLogs, seriesLines, seriesValue } from './testing.js';

test('business events count and sum values; funnels give conversion rates', async () => {
  const vigil = createVigil({ service: 'b', defaultMetrics: false, serviceLabels: false, logDestination: captureLogs() });
  vigil.business.event('purchase', { value: 30, labels: { method: 'card' } });
  vigil.business.event('purchase', { value: 12.5, labels: { method: 'card' } });
  vigil.business.event('purchase', { value: 7, labels: { method: 'paypal' } });
  vigil.business.event('page_view');
  vigil.business.event('page_view');
  assert.equal(vigil.business.conversionRate('page_view', 'purchase'), 1.5);
  const f = vigil.business.funnel('shop', ['page_view', 'add_to_cart', 'purchase']);
  for (let i = 0; i < 10; i++) f.step('page_view');
  for (let i = 0; i < 4; i++) f.step('add_to_cart');
  f.step('purchase');
  assert.equal(f.conversion(), 0.1);
  assert.equal(f.conversion('page_view', 'add_to_cart'), 0.4);
  assert.equal(f.conversion('add_to_cart', 'purchase'), 0.25);
  assert.throws(() => f.step('refund'), RangeError);
  assert.equal(
    f.conversionQuery(),
    'sum(rate(business_funnel_steps_total{funnel="shop",step="purchase"}[5m])) / sum(rate(business_funnel_steps_total{funnel="shop",step="page_view"}[5m]))',
  );
  const text = (await vigil.metrics()).body;
  assert.deepEqual(seriesLines(text, 'business_purchase_total'), ['business_purchase_total{method="card"} 2', 'business_purchase_total{method="paypal"} 1']);
  assert.deepEqual(seriesLines(text, 'business_purchase_value_total'), [
    'business_purchase_value_total{method="card"} 42.5',
    'business_purchase_value_total{method="paypal"} 7',
  ]);
  assert.deepEqual(seriesLines(text, 'business_page_view_total'), ['business_page_view_total 2']);
  assert.equal(seriesValue(text, 'business_funnel_steps_total{funnel="shop",step="add_to_cart"}'), 4);
  assert.deepEqual(seriesLines(text, 'business_funnel_conversion_ratio'), [
    'business_funnel_conversion_ratio{funnel="shop",from="page_view",to="add_to_cart"} 0.4',
    'business_funnel_conversion_ratio{funnel="shop",from="page_view",to="purchase"} 0.1',
  ]);
  assert.throws(() => vigil.business.event('bad-name'), TypeError);
  await vigil.shutdown();
});
