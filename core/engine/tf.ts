/**
 * The one place selfsup imports TensorFlow.js. tfjs-core's Node bundle registers no gradient
 * functions (`variableGrads` fails with "gradient function not found for Mean"), and its ESM build is
 * not loadable by Node; the `@tensorflow/tfjs` union bundle registers all of them into the same,
 * deduplicated tfjs-core. Everything else in selfsup imports `tf` from here.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';

// Silence tfjs's "install our node backend" banner: selfsup reports the backend it chose itself.
tf.env().set('PROD', true);

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Scalar } from '@tensorflow/tfjs-core';
