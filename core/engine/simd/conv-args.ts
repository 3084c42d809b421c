import type { tf } from '../tf.js';

/**
 * The 15 shape arguments of kernels.c's convolution kernels (its ConvShape, in order):
 * B, H, W, CI, OH, OW, CO, KH, KW, SH, SW, DH, DW, PT, PL.
 */
export function convShapeArgs(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ];
}

/** im2col rows per block for K columns and CO channels: a block and its dy rows stay in L2 (~192 KiB) while used */
export function im2colBlockRows(k: number, co: number): number {
  return Math.max(4, Math.min(1024, Math.floor((48 * 1024) / (k + co))));
}
