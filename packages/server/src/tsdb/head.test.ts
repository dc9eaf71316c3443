import { storageContract } from '../storage/contract.js';
import { Head } from './head.js';

storageContract('in-memory head', async () => ({ store: new Head(), close: () => {} }));
