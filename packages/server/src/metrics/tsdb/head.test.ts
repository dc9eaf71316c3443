import { storageContract } from '../../testkit/contracts/metrics_storage.js';
import { CONTRACT_OOO_WINDOW_MS, outOfOrderContract } from '../../testkit/contracts/metrics_storage_ooo.js';
import { Head } from './head.js';

storageContract('in-memory head', async () => ({ store: new Head(), close: () => {} }));

outOfOrderContract('in-memory head', async () => ({ store: new Head({ outOfOrderWindowMs: CONTRACT_OOO_WINDOW_MS }), close: () => {} }));
