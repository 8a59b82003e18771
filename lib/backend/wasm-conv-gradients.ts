/**
 * Conv2D gradients for the wasm backend, built from forward convolutions.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel and a slow
 * Conv2DBackpropInput, so CNNs cannot train on it. Both gradients are
 * convolutions themselves, and wasm's forward Conv2D (XNNPACK) is fast:
 *   input gradient:  dilate dy by the stride, pad it, and convolve it with
 *                    the spatially flipped filter with in/out channels swapped
 *   filter gradient: convolve x transposed to [Cin, H, W, B] with dy
 *                    transposed to [oh, ow, B, Cout], dilation = stride
 * Registering them as the wasm kernels (rather than overriding gradients)
 * fixes every path that reaches them: tf.conv2d, tf.fused.conv2d, tf.layers.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type Backend = tf.KernelBackend & { disposeData(dataId: object, force?: boolean): boolean };
type Attrs = Record<string, unknown>;
type Pads = [number, number][];

/** Runs wasm kernels directly and frees every intermediate on `finish`. */
class KernelScope {
  private made: TensorInfo[] = [];
  constructor(private backend: Backend) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`wasm backend has no '${kernelName}' kernel`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs: attrs as tf.NamedAttrMap });
    const info = Array.isArray(out) ? out[0] : out;
    this.made.push(info);
    return info;
  }

  /** Pads (negative amounts crop) the given dims of a tensor. */
  padOrCrop(x: TensorInfo, pads: Pads): TensorInfo {
    let y = x;
    if (pads.some(([a, b]) => a < 0 || b < 0)) {
      const begin = pads.map(([a]) => Math.max(0, -a));
      const size = y.shape.map((d, i) => d - begin[i] - Math.max(0, -pads[i][1]));
      y = this.run('Slice', { x: y }, { begin, size });
    }
    if (pads.some(([a, b]) => a > 0 || b > 0)) {
      const paddings = pads.map(([a, b]) => [Math.max(0, a), Math.max(0, b)]);
      y = this.run('PadV2', { x: y }, { paddings, constantValue: 0 });
    }
    return y;
  }

  /** Frees all intermediates except `keep`, the kernel's result. */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.made) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs) {
  if (a.dataFormat === 'NCHW') {
    throw new Error('wasm conv2d gradients support NHWC (channels-last) only');
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
}

function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const [batch, oh, ow, cout] = dy.shape;
  const [, inH, inW] = attrs.inputShape;
  const s = new KernelScope(args.backend as Backend);

  // Dilate dy by the stride: [B, oh, 1, ow, 1, C] padded to [B, oh, sh, ow, sw, C]
  let d = dy;
  if (sh > 1 || sw > 1) {
    d = s.run('Reshape', { x: d }, { shape: [batch, oh, 1, ow, 1, cout] });
    d = s.run('PadV2', { x: d }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0,
    });
    d = s.run('Reshape', { x: d }, { shape: [batch, oh * sh, ow * sw, cout] });
  }
  // Pad so that a stride-1 valid convolution yields exactly [inH, inW]
  d = s.padOrCrop(d, [
    [0, 0],
    [kh - 1 - padInfo.top, inH + padInfo.top - oh * sh],
    [kw - 1 - padInfo.left, inW + padInfo.left - ow * sw],
    [0, 0],
  ]);
  // [kh, kw, Cin, Cout] -> flipped [kh, kw, Cout, Cin]
  let w = s.run('Reverse', { x: filter }, { dims: [0, 1] });
  w = s.run('Transpose', { x: w }, { perm: [0, 1, 3, 2] });
  const dx = s.run('Conv2D', { x: d, filter: w }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1],
  });
  return s.finish(dx);
}

function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const [, oh, ow] = dy.shape;
  const [, inH, inW] = x.shape;
  const s = new KernelScope(args.backend as Backend);

  // Pad x so that the dilated "filter" dy slides over exactly kh x kw positions
  const xp = s.padOrCrop(x, [
    [0, 0],
    [padInfo.top, kh + (oh - 1) * sh - inH - padInfo.top],
    [padInfo.left, kw + (ow - 1) * sw - inW - padInfo.left],
    [0, 0],
  ]);
  const xT = s.run('Transpose', { x: xp }, { perm: [3, 1, 2, 0] });   // [Cin, H', W', B]
  const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });  // [oh, ow, B, Cout]
  const g = s.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw],
  });                                                                  // [Cin, kh, kw, Cout]
  const dw = s.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });     // [kh, kw, Cin, Cout]
  return s.finish(dw);
}

/** Replaces wasm's conv2d gradient kernels; call once, before training. */
export function registerWasmConvGradients(): void {
  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropInput', conv2dBackpropInput],
    ['Conv2DBackpropFilter', conv2dBackpropFilter],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  }
}
