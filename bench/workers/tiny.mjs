// Smallest useful ESM worker: announces itself once its module has evaluated.
import { parentPort } from 'node:worker_threads';

parentPort.postMessage('ready');
