import type { tf } from '../tf.js';

/**
 * The 15 shape arguments of kernels.c's convolution kernels (its ConvShape, in order):
 * B, H, W, CI, OH, OW, CO, KH, KW, SH, SW, DH, DW, PT, PL.
 */
export function convShapeArgs(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/**
 * Rows (output positions) per im2col block for K columns and CO channels.
 * Filter gradient: the block and its dy rows stay in L2 (48K floats) while the partial gradient
 * is accumulated. Input gradient: blocks of up to 1M floats, so that a deep layer's filter (MBs)
 * is streamed once per many rows (measured, ResNet-18's 4x4x512 layer, 1 thread: 199 -> 123 ms;
 * the small CNN's layers unchanged within noise; larger filter-gradient blocks were slower).
 */
export function im2colBlockRows(k: number, co: number, kind: 'filter' | 'input'): number {
  const budget = kind === 'filter' ? 48 * 1024 : 1024 * 1024;
  return Math.max(4, Math.min(1024, Math.floor(budget / (k + co))));
}
