// The fuzz campaigns in a worker thread: it reports each input before trying it and each campaign's result, so the
// main thread (run.ts) can stop it when one input hangs and say which one.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCorpus } from '../../tests/fuzz/corpus.ts';
import { mutationCampaign, specCampaign, type OnInput } from './campaign.ts';

export interface WorkerJob {
  mutations: number;
  specs: number;
  seed: number;
}

const job = workerData as WorkerJob;
const port = parentPort!;
const onInput: OnInput = (property, index, file, text) => port.postMessage({ kind: 'input', property, index, file, text });
port.postMessage({ kind: 'result', result: specCampaign(job.specs, job.seed, onInput) });
port.postMessage({ kind: 'result', result: mutationCampaign(loadCorpus(), job.mutations, job.seed, onInput) });
port.postMessage({ kind: 'done' });
