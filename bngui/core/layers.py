"""bngui's own layers: the low-level ones written on ``tf.nn``, as in the notebook's
second half, Keras's BN on TensorFlow's fused kernel, and the batch-statistics pitfall.

They are real Keras layers (weights tracked, serialisable), so a model built
from them trains, saves and reloads like one built from Keras's own layers.
"""

from bngui.core.tf_runtime import keras, tf

POPULATION_DECAY = 0.99
EPSILON = 1e-3


@keras.saving.register_keras_serializable(package="bngui")
class LowLevelBatchNorm(keras.layers.Layer):
    """Batch normalization from ``tf.nn.moments`` and ``tf.nn.batch_normalization``.

    ``gamma`` and ``beta`` are learned. The population mean and variance are
    not trained by the optimizer: in training they follow the batch statistics
    by an exponential moving average (``pop = pop*decay + batch*(1-decay)``)
    while the batch statistics normalize; in inference they normalize.
    Statistics are per feature (the last axis), so a convolution's moments are
    taken over batch, height and width.
    """

    def __init__(self, decay=POPULATION_DECAY, epsilon=EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.decay = float(decay)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        features = int(input_shape[-1])
        self.moment_axes = list(range(len(input_shape) - 1))
        self.gamma = self.add_weight(name="gamma", shape=(features,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(features,), initializer="zeros")
        self.pop_mean = self.add_weight(
            name="pop_mean", shape=(features,), initializer="zeros", trainable=False
        )
        self.pop_variance = self.add_weight(
            name="pop_variance", shape=(features,), initializer="ones", trainable=False
        )

    def call(self, inputs, training=False):
        if training:
            batch_mean, batch_variance = tf.nn.moments(inputs, self.moment_axes)
            self.pop_mean.assign(self.pop_mean * self.decay + batch_mean * (1.0 - self.decay))
            self.pop_variance.assign(
                self.pop_variance * self.decay + batch_variance * (1.0 - self.decay)
            )
            mean, variance = batch_mean, batch_variance
        else:
            mean, variance = self.pop_mean, self.pop_variance
        return tf.nn.batch_normalization(
            inputs, mean, variance, self.beta, self.gamma, self.epsilon
        )

    def get_config(self):
        return {**super().get_config(), "decay": self.decay, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="bngui")
class LowLevelConv2D(keras.layers.Layer):
    """3x3 'same' convolution on ``tf.nn.conv2d`` with the notebook's initialisation.

    Weights start from ``truncated_normal(stddev=0.05)``; the bias, when there
    is one, starts at zero.
    """

    def __init__(self, filters, kernel_size=3, strides=1, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        in_channels = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
            initializer=keras.initializers.TruncatedNormal(stddev=0.05),
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
            if self.use_bias
            else None
        )

    def call(self, inputs):
        outputs = tf.nn.conv2d(inputs, self.kernel, strides=self.strides, padding="SAME")
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return outputs

    def compute_output_shape(self, input_shape):
        def shrink(size):
            return None if size is None else -(-size // self.strides)

        return (input_shape[0], shrink(input_shape[1]), shrink(input_shape[2]), self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "use_bias": self.use_bias,
        }


def fused_batch_norm(inputs, gamma, beta, epsilon, mean=None, variance=None):
    """Batch normalization over every axis but the last, with TensorFlow's fused kernel.

    Without ``mean`` and ``variance`` it normalizes by the batch's own
    statistics and returns ``(outputs, batch mean, batch variance)``, the
    variance biased (divided by n) as BN takes it. With them (the
    population statistics) it returns ``(outputs, mean, variance)``. One
    kernel forward and one backward, where separate ops pass over the
    activations many times.
    """
    features = inputs.shape[-1]
    images = inputs if len(inputs.shape) == 4 else tf.reshape(inputs, [-1, 1, 1, features])
    training = mean is None
    if training:
        mean = variance = tf.constant([], inputs.dtype)
    outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
        x=images, scale=gamma, offset=beta, mean=mean, variance=variance, epsilon=epsilon,
        exponential_avg_factor=1.0, data_format="NHWC", is_training=training,
    )
    if training:
        # The kernel reports the unbiased variance (divided by n - 1).
        count = tf.cast(tf.size(images) // features, inputs.dtype)
        variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
    if len(inputs.shape) != 4:
        outputs = tf.reshape(outputs, tf.shape(inputs))
    return outputs, mean, variance


@keras.saving.register_keras_serializable(package="bngui")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras's ``BatchNormalization``, computed with TensorFlow's fused BN kernel.

    The same layer, weights and maths: in training it normalizes by the
    batch's mean and biased variance and moves its population statistics by
    ``momentum`` as Keras does; at inference it normalizes by the population
    statistics. Only the computation differs: one fused kernel, as tf.keras
    used for images by default, instead of Keras 3's separate ops. Inputs it
    cannot take (masks, renorm, other axes or dtypes) go to Keras's own code.
    """

    def _fusable(self, inputs, mask):
        return (mask is None and not self.renorm and not self.synchronized
                and self.scale and self.center and inputs.dtype == tf.float32
                and len(inputs.shape) in (2, 4) and self.axis in (-1, len(inputs.shape) - 1))

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        if not (training and self.trainable):
            outputs, _, _ = fused_batch_norm(inputs, self.gamma, self.beta, self.epsilon,
                                             self.moving_mean, self.moving_variance)
            return outputs
        outputs, mean, variance = fused_batch_norm(inputs, self.gamma, self.beta, self.epsilon)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs


@keras.saving.register_keras_serializable(package="bngui")
class BatchStatisticsBatchNorm(FusedBatchNormalization):
    """A deliberate bug: Keras BN that normalizes with batch statistics at inference too.

    Training is unchanged (and still updates the population statistics, which
    are then never used). At inference every batch is normalized by its own
    mean and variance, so a large batch looks fine while a single image, whose
    deepest 1x1 feature maps have no variance at all, is scored wrongly.
    """

    def call(self, inputs, training=None, mask=None):
        if training:
            return super().call(inputs, training=True, mask=mask)
        if self._fusable(inputs, mask):
            # The training computation, without moving the population statistics.
            outputs, _, _ = fused_batch_norm(inputs, self.gamma, self.beta, self.epsilon)
            return outputs
        axes = list(range(len(inputs.shape) - 1))
        mean, variance = tf.nn.moments(inputs, axes)
        return tf.nn.batch_normalization(
            inputs, mean, variance, self.beta, self.gamma, self.epsilon
        )
