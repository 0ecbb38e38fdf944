"""The MLPerf Tiny CNNs with seeded random weights, as `GraphCase` builders.

Each builder is `(keras, x) -> output` on a batch-1 Keras input (tests/toolkit/graphmodels.py).
Weights come from Keras' initializers (seeded by `keras.utils.set_random_seed(case.seed)`);
every BatchNormalization gets random, non-trivial moving statistics set right after it is
built, so the converter's folding of BN into the convolutions is exercised. The statistics
are drawn around the real per-channel mean and variance of the layer's input on random
data, which keeps activations in a sane range through the depth of the network (otherwise
the logits explode and the softmax is one-hot for every input). The numpy generator is
seeded from numpy's global generator, which `set_random_seed` seeds too.

Published MAC counts (MLPerf Tiny v0.5+ reference models, multiply-accumulates of the
convolutions, depthwise convolutions and dense layers only):
    keyword spotting DS-CNN          2,656,768
    visual wake words MobileNetV1    7,489,664
    image classification ResNet-8   12,501,632
    anomaly detection autoencoder      264,192 (`AD`: dense layers only, not in CNN_CASES)
`mlperf_macs(keras_model)` counts the same way; `PUBLISHED_MACS` holds them by case name.

Differences from the MLPerf reference code, by request: the DS-CNN pools over the whole
25x5 map (the reference pools 24x5, which also gives a 1x1 output); MobileNetV1 uses
ReLU6 (the reference uses ReLU). Dropout layers are left out (no-ops at inference).
"""

from __future__ import annotations

from math import prod

import numpy as np

from tests.toolkit.graphmodels import GraphCase

PUBLISHED_MACS = {"kws_dscnn": 2_656_768, "vww_mobilenet": 7_489_664, "ic_resnet8": 12_501_632,
                  "ad_autoencoder": 264_192}
_CALIBRATION_SAMPLES = 4  # random inputs the BN statistics are measured on


class _Net:
    """Layer helpers sharing the model input (for BN calibration) and a seeded generator."""

    def __init__(self, keras, x) -> None:
        self.keras = keras
        self.input = x
        self.rng = np.random.default_rng(np.random.randint(2**31))
        shape = tuple(int(d) for d in x.shape[1:])
        self.calib = self.rng.normal(0.0, 1.0, size=(_CALIBRATION_SAMPLES, *shape)).astype(np.float32)

    def _channel_stats(self, y) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance per channel of tensor `y` over the calibration inputs."""
        keras = self.keras
        sub = keras.Model(self.input, y)
        vals = np.concatenate([keras.ops.convert_to_numpy(sub(s[None], training=False)) for s in self.calib])
        flat = vals.reshape(-1, vals.shape[-1]).astype(np.float64)
        return flat.mean(axis=0), flat.var(axis=0)

    def bn(self, y):
        """BatchNormalization with random moving statistics near the real ones."""
        mean, var = self._channel_stats(y)
        n = mean.shape[0]
        layer = self.keras.layers.BatchNormalization()
        out = layer(y)
        gamma = self.rng.uniform(0.5, 1.5, n)
        beta = self.rng.normal(0.0, 0.25, n)
        moving_mean = mean + self.rng.normal(0.0, 0.2, n) * np.sqrt(var + 1e-3)
        moving_var = (var + 1e-3) * self.rng.uniform(0.5, 2.0, n)
        layer.set_weights([w.astype(np.float32) for w in (gamma, beta, moving_mean, moving_var)])
        return out

    def conv(self, y, filters: int, kernel, strides=1, bias: bool = True):
        return self.keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=bias,
                                        kernel_initializer="he_normal", bias_initializer="random_normal")(y)

    def dw(self, y, strides=1):
        return self.keras.layers.DepthwiseConv2D(3, strides=strides, padding="same", depthwise_initializer="he_normal",
                                                 bias_initializer="random_normal")(y)

    def act(self, y, kind: str = "relu"):
        return self.keras.layers.ReLU(6.0)(y) if kind == "relu6" else self.keras.layers.ReLU()(y)

    def head(self, y, classes: int):
        """Average pooling over the whole map, Flatten, Dense, Softmax."""
        y = self.keras.layers.AveragePooling2D(pool_size=tuple(int(d) for d in y.shape[1:3]))(y)
        y = self.keras.layers.Flatten()(y)
        y = self.keras.layers.Dense(classes, kernel_initializer="he_normal", bias_initializer="random_normal")(y)
        return self.keras.layers.Softmax()(y)


def ds_cnn_kws(keras, x):
    """MLPerf Tiny keyword spotting DS-CNN: input 49x10x1 (MFCC), 12 classes."""
    net = _Net(keras, x)
    y = net.act(net.bn(net.conv(x, 64, (10, 4), strides=2)))  # -> 25x5x64
    for _ in range(4):
        y = net.act(net.bn(net.dw(y)))
        y = net.act(net.bn(net.conv(y, 64, 1)))
    return net.head(y, 12)


# (pointwise filters at alpha = 1, depthwise stride) for MobileNetV1's 13 separable blocks
MOBILENET_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def mobilenet_v1_vww(keras, x, alpha: float = 0.25, classes: int = 2):
    """MobileNetV1 (alpha 0.25) for visual wake words: input 96x96x3, 2 classes."""
    net = _Net(keras, x)
    y = net.act(net.bn(net.conv(x, int(32 * alpha), 3, strides=2)), "relu6")  # -> 48x48x8
    for filters, stride in MOBILENET_BLOCKS:
        y = net.act(net.bn(net.dw(y, stride)), "relu6")
        y = net.act(net.bn(net.conv(y, int(filters * alpha), 1)), "relu6")
    return net.head(y, classes)  # 3x3x256 -> 2


def resnet8_ic(keras, x):
    """MLPerf Tiny image classification ResNet-8 (CIFAR-10): input 32x32x3, 10 classes."""
    net = _Net(keras, x)
    y = net.act(net.bn(net.conv(x, 16, 3)))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        r = net.act(net.bn(net.conv(y, filters, 3, strides=stride)))
        r = net.bn(net.conv(r, filters, 3))
        shortcut = y if stride == 1 else net.conv(y, filters, 1, strides=stride)
        y = net.act(keras.layers.Add()([shortcut, r]))
    return net.head(y, 10)  # 8x8x64 -> 10


def ad_autoencoder(keras, x):
    """MLPerf Tiny anomaly detection autoencoder: input 640 (5 frames x 128 mel bins),
    Dense 128 x4, bottleneck 8, Dense 128 x4, Dense 640; each hidden Dense with BN and ReLU."""
    net = _Net(keras, x)
    y = x
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        y = keras.layers.Dense(units, kernel_initializer="he_normal", bias_initializer="random_normal")(y)
        y = net.act(net.bn(y))
    return keras.layers.Dense(640, kernel_initializer="he_normal", bias_initializer="random_normal")(y)


KWS = GraphCase("kws_dscnn", ds_cnn_kws, inputs=((49, 10, 1),), seed=0, scale=1.0)
VWW = GraphCase("vww_mobilenet", mobilenet_v1_vww, inputs=((96, 96, 3),), seed=0, scale=1.0)
IC = GraphCase("ic_resnet8", resnet8_ic, inputs=((32, 32, 3),), seed=0, scale=1.0)
AD = GraphCase("ad_autoencoder", ad_autoencoder, inputs=((640,),), seed=0, scale=1.0)  # not in CNN_CASES: no conv
CNN_CASES = (KWS, VWW, IC)


def mlperf_macs(model) -> int:
    """Multiply-accumulates as MLPerf Tiny counts them: Conv2D, DepthwiseConv2D and Dense
    layers (one per weight per output position); pooling, BN, adds and softmax are free."""
    total = 0
    for layer in model.layers:
        name = type(layer).__name__
        if name not in ("Conv2D", "DepthwiseConv2D", "Dense"):
            continue
        out_positions = prod(int(d) for d in layer.output.shape[1:-1])
        total += out_positions * int(np.prod(layer.get_weights()[0].shape))
    return total


def keras_model(case: GraphCase):
    """The Keras model of a case, built as `convert_case` builds it (same seed, same weights)."""
    from toolkit.tf_env import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(case.seed)
    inputs = [keras.Input(shape=s, batch_size=1) for s in case.inputs]
    return keras.Model(inputs[0], case.build(keras, *inputs))
