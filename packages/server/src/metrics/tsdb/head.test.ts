import { storageContract } from '../../testkit/contracts/metrics_storage.js';
import { Head } from './head.js';

storageContract('in-memory head', async () => ({ store: new Head(), close: () => {} }));
