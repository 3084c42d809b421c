import type { ConfigProblem } from '../core/portable.js';
import type { PlaygroundEvent } from './loop.js';

/** What the page asks of the training worker (`name`: the run's name where the config gives none, the preset it came from). */
export type ToWorker =
  | { type: 'validate'; config: unknown; name: string }
  | { type: 'start'; config: unknown; name: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'checkpoint' }
  | { type: 'load'; bytes: Uint8Array; file: string };

/** What the training worker tells the page. */
export type FromWorker =
  | { type: 'backend'; name: string; details: string }
  /** whether the tab can train on WebGPU: its adapter, or why there is none or it cannot train; reported once beside the backend line */
  | { type: 'gpu'; available: boolean; text: string }
  | { type: 'valid' }
  | { type: 'invalid'; problems: ConfigProblem[] }
  | { type: 'status'; text: string }
  | { type: 'event'; event: PlaygroundEvent }
  | { type: 'checkpoint'; name: string; bytes: Uint8Array }
  | { type: 'loaded'; config: unknown; step: number }
  | { type: 'error'; message: string };
