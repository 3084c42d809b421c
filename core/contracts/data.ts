import type { Tensor4D } from '../engine/tf.js';

/**
 * Images of one split, kept as bytes: `images` is `[count, height, width, channels]` row-major uint8.
 *
 * A set too large for memory is read on demand instead: it has a `source`, and its `images` is a
 * getter that throws a DataError (build one with `streamingImageSet`). Code that reads pixels
 * through `readPixels` / `readImages` / `readFeatures` (the trainer, the built-in evaluators and
 * callbacks) works with both; `gatherImages` / `makeBatch` stay synchronous and in-memory only. A
 * dataset plugin that returns `{ images, labels, count }` is unchanged.
 */
export interface ImageSet {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  /** present on a set whose pixels are read on demand (then `images` throws) */
  source?: ImageSource;
  /** each image's file, where the dataset reads files (image-folder) */
  paths?: string[];
}

/** Pixels of a set read on demand (a folder decoded as it is read). */
export interface ImageSource {
  /**
   * The images `indices` as `[indices.length, height, width, channels]` row-major uint8. Several
   * reads may be in flight at once (the trainer prefetches); each resolves to its own array.
   */
  read(indices: ArrayLike<number>): Promise<Uint8Array>;
  /** release what the source holds (worker threads); reads after it may fail */
  close?(): Promise<void>;
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
  /** what the self-supervised objective trains on; a label of -1 marks an unlabelled image */
  train: ImageSet;
  /**
   * The labelled training images evaluators (kNN, linear probe, fine-tune) fit on, when `train`
   * holds unlabelled ones (STL-10's unlabeled split); default `train`.
   */
  evalTrain?: ImageSet;
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
