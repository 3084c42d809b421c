/**
 * The one place selfsup imports TensorFlow.js. tfjs-core's Node bundle registers no gradient
 * functions (`variableGrads` fails with "gradient function not found for Mean"), and its ESM build is
 * not loadable by Node; the `@tensorflow/tfjs` union bundle registers all of them into the same,
 * deduplicated tfjs-core. Everything else in selfsup imports `tf` from here.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { installLeanGradients } from './lean-gradients.js';

// Silence tfjs's "install our node backend" banner: selfsup reports the backend it chose itself.
tf.env().set('PROD', true);
// A backward pass that frees each node's saved tensors and gradients once it is done (lean-gradients.ts); SELFSUP_LEAN_GRADIENTS=0: tfjs's own
if (process.env.SELFSUP_LEAN_GRADIENTS !== '0') installLeanGradients(tf);

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Scalar } from '@tensorflow/tfjs-core';
