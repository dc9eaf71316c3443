/** Test helper: pushes batches forever, printing each acknowledgement, until killed. */
import { labelsFrom } from '../../core/model/labels.js';
import { LogStore } from '../../logs/store/store.js';

const store = new LogStore({ dir: process.argv[2]!, chunkTargetBytes: 8192, walSegmentBytes: 64 * 1024 });
store.start();
let batch = 0;
const step = (): void => {
  const entries = [];
  for (let i = 0; i < 100; i++) entries.push({ t: BigInt(Date.now()) * 1_000_000n + BigInt(batch * 100 + i), line: `batch=${batch} i=${i}` });
  store.push([{ labels: labelsFrom({ app: 'durable' }), entries }]);
  batch++;
  process.stdout.write(`acked ${batch}\n`);
  setImmediate(step);
};
step();
