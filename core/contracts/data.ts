import type { Tensor4D } from '../engine/tf.js';

/** Images of one split, kept as bytes: `images` is `[count, height, width, channels]` row-major uint8. */
export interface ImageSet {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

export interface DatasetInfo {
  name: string;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames?: string[];
  /** per-channel mean and std of the training pixels in [0, 1], used to normalise encoder inputs */
  mean: number[];
  std: number[];
}

export interface LoadedDataset {
  info: DatasetInfo;
  train: ImageSet;
  /** labelled held-out split for evaluation (kNN, linear probe) */
  test?: ImageSet;
}

/** Dataset plugin: loads a labelled image set into memory. Labels are used only by evaluators. */
export interface Dataset {
  load(): Promise<LoadedDataset>;
}

/** One training batch. Every sample carries its dataset index (the memory bank needs it). */
export interface Batch {
  /** `[B, H, W, C]` float32 in [0, 1] */
  x: Tensor4D;
  /** dataset index of each sample, `[B]` */
  index: Int32Array;
  labels: Int32Array;
}
