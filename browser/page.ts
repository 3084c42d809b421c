import { drawChart, drawScatter } from './chart.js';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * The playground page: a preset picker and a config editor, start/pause/reset, and the charts. All
 * training happens in the worker (`/worker.js`); the page only draws what it reports. The state is
 * also on `window.playground` (what the Chromium tests read, beside the text on the page).
 */
interface PresetEntry {
  name: string;
  description: string;
  config: unknown;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const presetSelect = $<HTMLSelectElement>('preset');
const editor = $<HTMLTextAreaElement>('config');
const startButton = $<HTMLButtonElement>('start');
const pauseButton = $<HTMLButtonElement>('pause');
const problems = $('problems');
const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '-');

const state = {
  backend: '',
  /** the WebGPU line: the adapter and how to use it, or why there is none */
  gpu: '',
  status: 'idle' as 'idle' | 'running' | 'paused' | 'done' | 'failed',
  steps: [] as Array<[number, number]>,
  /** each step's wall time in the worker, ms (batch taken, augmented, trained) */
  stepMs: [] as number[],
  /** the same, trainStep alone (what `selfsup bench` times) */
  trainMs: [] as number[],
  /** when each step ended (the worker's clock, ms): the wall time per step, yields and prefetch included */
  stepAt: [] as number[],
  /** tfjs's live tensors in the worker after each step */
  tensors: [] as number[],
  knn: [] as Array<[number, number]>,
  randomKnn: NaN,
  /** the epoch of the task pictures shown (0: none yet) */
  pictures: 0,
  /** the epoch of the embedding shown (0: none yet) */
  embeddings: 0,
  error: '',
};
(window as unknown as { playground: typeof state }).playground = state;

let worker: Worker;
function startWorker(): void {
  worker = new Worker('/worker.js');
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  worker.onerror = (e) => fail(`the training worker failed: ${e.message}`);
}
const send = (m: ToWorker) => worker.postMessage(m);

function fail(message: string): void {
  state.status = 'failed';
  state.error = message;
  problems.textContent = message;
  startButton.disabled = false;
  pauseButton.disabled = true;
}

function redraw(): void {
  drawChart($<HTMLCanvasElement>('loss-chart'), [{ points: state.steps, color: '#1f77b4', label: 'loss' }], { yLabel: (y) => y.toFixed(3) });
  drawChart($<HTMLCanvasElement>('knn-chart'), [{ points: state.knn, color: '#d62728', label: 'kNN' }], {
    reference: Number.isFinite(state.randomKnn) ? { y: state.randomKnn, label: `random weights ${pct(state.randomKnn)}` } : undefined,
    yLabel: pct,
  });
}

function onMessage(m: FromWorker): void {
  if (m.type === 'backend') {
    state.backend = `${m.name} (${m.details})`;
    $('backend').textContent = `backend: ${state.backend}`;
  } else if (m.type === 'gpu') {
    state.gpu = m.available ? `WebGPU: ${m.text} ("backend": "webgpu" in the config trains on it)` : `WebGPU: not used (${m.text})`;
    $('gpu').textContent = state.gpu;
  } else if (m.type === 'status') $('status').textContent = m.text;
  else if (m.type === 'invalid') {
    problems.textContent = m.problems.map((p) => `${p.path || '/'}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`).join('\n');
    state.status = 'idle';
    startButton.disabled = false;
  } else if (m.type === 'valid') problems.textContent = '';
  else if (m.type === 'error') fail(m.message);
  else if (m.type === 'loaded') {
    editor.value = JSON.stringify(m.config, null, 2);
    state.status = 'running';
    startButton.disabled = true;
    $('status').textContent = `loaded a checkpoint at step ${m.step}: evaluating ...`;
  } else if (m.type === 'checkpoint') {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([m.bytes as BlobPart], { type: 'application/x-tar' }));
    a.download = m.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } else if (m.type === 'event') {
    const ev = m.event;
    if (ev.type === 'step') {
      state.steps.push([ev.step, ev.loss]);
      state.stepMs.push(ev.ms);
      state.trainMs.push(ev.trainMs);
      state.stepAt.push(ev.at);
      state.tensors.push(ev.tensors);
      $('step').textContent = String(ev.step);
      $('speed').textContent = `${Math.round(ev.viewsPerSecond)} views/s, ${Math.round(ev.ms)} ms/step`;
      if (ev.step % 2 === 0) redraw();
    } else if (ev.type === 'epoch') {
      state.knn.push([ev.epoch, ev.knn]);
      $('knn').textContent = pct(ev.knn);
      const loss = Number.isFinite(ev.loss) ? `loss ${ev.loss.toFixed(4)}` : `step ${ev.step} (loaded)`;
      $('status').textContent = `epoch ${ev.epoch}: ${loss}, kNN ${pct(ev.knn)} (${ev.seconds.toFixed(1)} s)`;
      redraw();
    } else if (ev.type === 'picture') {
      state.pictures = ev.epoch;
      drawPicture(ev.task, ev.kind, ev.epoch, ev.width, ev.height, ev.rgb);
    } else if (ev.type === 'embedding') {
      state.embeddings = ev.epoch;
      $('embedding-caption').textContent = `UMAP of h for ${ev.points.length} test images after epoch ${ev.epoch}, coloured by class`;
      drawScatter($<HTMLCanvasElement>('embedding-chart'), ev.points, ev.labels, ev.classNames);
    } else if (ev.type === 'baseline') {
      state.randomKnn = ev.knn;
      $('random-knn').textContent = pct(ev.knn);
      redraw();
    } else if (ev.type === 'start')
      $('status').textContent = `training: ${ev.epochs} epochs x ${ev.stepsPerEpoch} steps, ${ev.parameters.toLocaleString()} parameters`;
    else if (ev.type === 'end') {
      state.status = 'done';
      pauseButton.disabled = true;
      $('status').textContent = `done: ${ev.steps} steps, kNN ${pct(ev.knn)}`;
    }
  }
}

const PICTURE_CAPTIONS = {
  reconstruction: 'input, prediction, target',
  attention: "each image, then where the last block's cls token looks, one map per head",
} as const;

/** A task's picture of one kind, drawn from the worker's RGB pixels, replacing the epoch before. */
function drawPicture(task: string, kind: keyof typeof PICTURE_CAPTIONS, epoch: number, width: number, height: number, rgb: Uint8Array): void {
  let fig = document.getElementById(`picture-${task}-${kind}`);
  if (!fig) {
    fig = document.createElement('figure');
    fig.id = `picture-${task}-${kind}`;
    fig.append(document.createElement('figcaption'), document.createElement('canvas'));
    $('pictures').append(fig);
  }
  fig.querySelector('figcaption')!.textContent = `${task}, epoch ${epoch}: ${PICTURE_CAPTIONS[kind]}`;
  const canvas = fig.querySelector('canvas')!;
  canvas.width = width;
  canvas.height = height;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(rgb.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba[4 * i + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, width, height), 0, 0);
}

/** The editor's JSON, or undefined with the syntax error shown at the top level. */
function editorConfig(): unknown {
  try {
    return JSON.parse(editor.value);
  } catch (e) {
    problems.textContent = `/: the config is not valid JSON (${(e as Error).message})`;
    return undefined;
  }
}

startButton.onclick = () => {
  const config = editorConfig();
  if (config === undefined) return;
  startButton.disabled = true;
  pauseButton.disabled = false;
  state.status = 'running';
  send({ type: 'start', config, name: presetSelect.value });
};
pauseButton.onclick = () => {
  const paused = state.status === 'paused';
  send({ type: paused ? 'resume' : 'pause' });
  state.status = paused ? 'running' : 'paused';
  pauseButton.textContent = paused ? 'Pause' : 'Resume';
};
$('download').onclick = () => send({ type: 'checkpoint' });
const upload = $<HTMLInputElement>('load');
upload.onchange = async () => {
  const file = upload.files?.[0];
  if (!file) return;
  send({ type: 'load', bytes: new Uint8Array(await file.arrayBuffer()), file: file.name });
  upload.value = '';
};
$('reset').onclick = () => {
  worker.terminate();
  Object.assign(state, {
    backend: '',
    status: 'idle',
    steps: [],
    stepMs: [],
    trainMs: [],
    stepAt: [],
    tensors: [],
    knn: [],
    randomKnn: NaN,
    pictures: 0,
    embeddings: 0,
    error: '',
  });
  $('pictures').replaceChildren();
  $('backend').textContent = 'backend: starting ...';
  drawScatter($<HTMLCanvasElement>('embedding-chart'), [], []);
  for (const id of ['knn', 'random-knn']) $(id).textContent = '-';
  $('step').textContent = '0';
  problems.textContent = '';
  startButton.disabled = false;
  pauseButton.disabled = true;
  pauseButton.textContent = 'Pause';
  redraw();
  startWorker();
};
let timer: ReturnType<typeof setTimeout> | undefined;
editor.oninput = () => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    const config = editorConfig();
    if (config !== undefined) send({ type: 'validate', config, name: presetSelect.value });
  }, 300);
};

const presets = (await (await fetch('/presets.json')).json()) as PresetEntry[];
for (const p of presets) presetSelect.add(new Option(`${p.name}: ${p.description}`, p.name));
presetSelect.onchange = () => {
  const p = presets.find((x) => x.name === presetSelect.value)!;
  editor.value = JSON.stringify(p.config, null, 2);
  problems.textContent = '';
};
presetSelect.value = new URLSearchParams(location.search).get('preset') ?? 'simclr';
presetSelect.onchange(new Event('change'));
startWorker();
redraw();
