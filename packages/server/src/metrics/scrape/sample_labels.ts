/**
 * The labels a scraped series is stored under, as Prometheus' scrape loop makes them: the target's
 * labels added (or, with honor_labels, only where the series lacks them; otherwise a clashing label
 * of the series is kept as `exported_<name>`), metric_relabel_configs applied, then validity and the
 * label limits checked. Only series new to a loop's cache come here.
 */
import { compactLabels, getLabel, LabelPool, validateLabels, type Label, type Labels } from '../../core/model/labels.js';
import { LabelsBuilder } from '../relabel/builder.js';
import { relabel, type CompiledRelabel } from '../relabel/relabel.js';
import { ScrapeError } from './scrape_error.js';

const EXPORTED_PREFIX = 'exported_';

/** The scrape settings that decide a series' labels. */
export interface LabelSettings {
  readonly honorLabels: boolean;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly metricRelabel: readonly CompiledRelabel[];
}

/** Labels series of one target. */
export class SampleLabeler {
  private readonly builder = new LabelsBuilder();
  /** Label objects its series share (the metric names and repeated values of this target). */
  private readonly pool = new LabelPool();

  constructor(
    private readonly targetLabels: Labels,
    private readonly settings: LabelSettings,
  ) {}

  /** The stored labels of a series scraped as `raw`; undefined when metric relabeling drops it. */
  labels(raw: Labels): Labels | undefined {
    const b = this.builder;
    b.reset(raw);
    const tl = this.targetLabels;
    if (this.settings.honorLabels) {
      for (const l of tl) if (getLabel(raw, l.name) === '') b.set(l.name, l.value);
    } else {
      const conflicts: Label[] = [];
      for (const l of tl) {
        const existing = getLabel(raw, l.name);
        if (existing !== '') conflicts.push({ name: l.name, value: existing });
        b.set(l.name, l.value);
      }
      conflicts.sort((a, c) => a.name.length - c.name.length);
      for (const c of conflicts) {
        let name = c.name;
        for (;;) {
          name = EXPORTED_PREFIX + name;
          if (b.get(name) === '') {
            b.set(name, c.value);
            break;
          }
        }
      }
    }
    let out: Labels | undefined = b.labels();
    if (this.settings.metricRelabel.length > 0) out = relabel(out, this.settings.metricRelabel);
    if (out === undefined || out.length === 0) return undefined;
    const problem = validateLabels(out);
    if (problem) throw new ScrapeError('invalid_series', `invalid metric name or label names: ${problem}`);
    checkLabelLimits(out, this.settings);
    // Kept in the cache (and by the store) for as long as the series is scraped.
    return compactLabels(out, tl, this.pool);
  }
}

function checkLabelLimits(ls: Labels, settings: LabelSettings): void {
  const { labelLimit, labelNameLengthLimit: nameMax, labelValueLengthLimit: valueMax } = settings;
  const met = getLabel(ls, '__name__').slice(0, 50);
  if (labelLimit > 0 && ls.length > labelLimit) {
    throw new ScrapeError('label_limit', `label_limit exceeded (metric: ${met}, number of labels: ${ls.length}, limit: ${labelLimit})`);
  }
  if (nameMax === 0 && valueMax === 0) return;
  for (const l of ls) {
    if (nameMax > 0 && l.name.length > nameMax) {
      throw new ScrapeError(
        'label_limit',
        `label_name_length_limit exceeded (metric: ${met}, label name: ${l.name.slice(0, 50)}, length: ${l.name.length}, limit: ${nameMax})`,
      );
    }
    if (valueMax > 0 && l.value.length > valueMax) {
      throw new ScrapeError(
        'label_limit',
        `label_value_length_limit exceeded (metric: ${met}, label name: ${l.name.slice(0, 50)}, value: ${JSON.stringify(l.value.slice(0, 50))}, length: ${l.value.length}, limit: ${valueMax})`,
      );
    }
  }
}

/** The labels of a report series (`up`, `scrape_duration_seconds`, …): Prometheus' rule, target labels win and nothing is exported. */
export function reportLabels(name: string, targetLabels: Labels): Labels {
  const out: Label[] = targetLabels.filter((l) => l.name !== '__name__');
  out.push({ name: '__name__', value: name });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
