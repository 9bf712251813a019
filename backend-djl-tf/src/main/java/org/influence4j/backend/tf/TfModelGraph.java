package org.influence4j.backend.tf;

import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Layer;
import org.influence4j.api.model.ModelSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.family.TNumber;

/**
 * The TensorFlow graph of one {@link ModelSpec}, built once per model, with its symbolic first and
 * second derivatives.
 *
 * <p><b>Inputs</b> (placeholders): one per parameter tensor ({@code W_j [out,in]}, {@code b_j [out]}),
 * features {@code x [n, inputDim]}, targets {@code y [n, K]} (MSE targets, one-hot class labels or
 * binary labels {@code [n,1]}), a scalar loss weight {@code scale}, and a direction {@code v} given as
 * one placeholder per parameter tensor.
 *
 * <p><b>Outputs</b>: model outputs {@code f [n,K]}; per-sample losses {@code [n]};
 * {@code L = scale · Σ_i ℓ_i}; {@code ∂L/∂θ} per parameter tensor and {@code δ_j = ∂L/∂z_j [n,out_j]}
 * for each Dense pre-activation, from one {@code Graph.addGradients} call seeded with an explicit
 * constant 1; per-sample gradients {@code [n,p]} as batched outer products {@code δ_j[i] ⊗ a_j[i]} and
 * {@code δ_j[i]} (exact when {@code scale = 1}); the exact {@code H·v = ∂⟨∂L/∂θ, v⟩/∂θ} and the mixed
 * product {@code ∂⟨∂L/∂θ, v⟩/∂x}, from a second {@code addGradients} call seeded with {@code v}.
 *
 * <p><b>Why activations are composed.</b> TensorFlow's C++ gradient registry (used by
 * {@code addGradients}) has no gradients for {@code ReluGrad}, {@code SigmoidGrad}, {@code TanhGrad},
 * so the fused activations cannot be differentiated twice. They are built from ops whose gradients
 * are themselves differentiable, in forms that never overflow. With {@code m = stop_gradient(z ≥ 0)}
 * and {@code s = 2m − 1} (so {@code s·z = |z|}):
 * <ul>
 *   <li>relu: {@code z · stop_gradient(z > 0)} (derivative 0 at 0, like PyTorch);</li>
 *   <li>sigmoid: {@code (m + (1−m)·e) / (1 + e)} with {@code e = exp(−|z|)};</li>
 *   <li>tanh: {@code s · (−e / (e + 2))} with {@code e = expm1(−2|z|)};</li>
 *   <li>softplus: {@code m·z + log1p(exp(−|z|))} (exact, without PyTorch's linear cut-off at z &gt; 20,
 *       which differs by less than 2.1e-9 there);</li>
 *   <li>binary logistic loss: {@code softplus(f) − y·f}.</li>
 * </ul>
 * The stop-gradient masks are piecewise constant, so first and second derivatives are exact
 * everywhere except at the kink of relu (where PyTorch's convention is used).
 *
 * @param <T> TFloat32 or TFloat64
 */
final class TfModelGraph<T extends TNumber> implements AutoCloseable {

    final Graph graph;
    final List<Placeholder<T>> params = new ArrayList<>();
    final List<Placeholder<T>> directions = new ArrayList<>();
    final Placeholder<T> x;
    final Placeholder<T> y;
    final Placeholder<T> scale;
    final Output<?> output;
    final Output<?> perSampleLosses;
    final Output<?>[] gradientParts;
    final Output<?> gradient;
    final Output<?>[] denseInputs;
    final Output<?>[] denseDeltas;
    final Output<?> perSampleGradients;
    final Output<?> hvp;
    final Output<?> mixed;

    /** Number of directions whose HVPs one session run of the block graph computes. */
    static final int BLOCK = 8;

    private final Ops tf;
    private final Class<T> type;
    private final List<Layer.Dense> dense = new ArrayList<>();
    private List<List<Placeholder<T>>> blockDirections;
    private Output<?>[] blockHvps;

    @SuppressWarnings("unchecked")
    TfModelGraph(ModelSpec spec, Class<T> type) {
        this.type = type;
        this.graph = new Graph();
        try {
            this.tf = Ops.create(graph);
            List<Layer> layers = spec.layers();
            int numDense = (int) layers.stream().filter(l -> l instanceof Layer.Dense).count();
            for (Layer layer : layers) {
                if (layer instanceof Layer.Dense d) {
                    dense.add(d);
                    params.add(tf.placeholder(type, Placeholder.shape(Shape.of(d.outFeatures(), d.inFeatures()))));
                    params.add(tf.placeholder(type, Placeholder.shape(Shape.of(d.outFeatures()))));
                    directions.add(tf.placeholder(type, Placeholder.shape(Shape.of(d.outFeatures(), d.inFeatures()))));
                    directions.add(tf.placeholder(type, Placeholder.shape(Shape.of(d.outFeatures()))));
                }
            }
            x = tf.placeholder(type, Placeholder.shape(Shape.of(-1, spec.inputDim())));
            y = tf.placeholder(type, Placeholder.shape(Shape.of(-1, spec.outputDim())));
            scale = tf.placeholder(type, Placeholder.shape(Shape.scalar()));

            Operand<T>[] inputs = new Operand[numDense];
            Operand<T>[] preActivations = new Operand[numDense];
            Operand<T> a = tf.identity(x);
            int j = 0;
            for (Layer layer : layers) {
                if (layer instanceof Layer.Dense) {
                    inputs[j] = a;
                    a = tf.math.add(tf.linalg.matMul(a, params.get(2 * j), MatMul.transposeB(true)), params.get(2 * j + 1));
                    preActivations[j] = a;
                    j++;
                } else {
                    a = activate(((Layer.Act) layer).activation(), a);
                }
            }
            Operand<T> f = a;
            output = f.asOutput();
            Operand<T> losses = perSampleLoss(spec, f, y);
            perSampleLosses = losses.asOutput();
            Operand<T> total = tf.math.mul(tf.reduceSum(losses, tf.constant(0)), scale);

            Output<?>[] wrt = new Output<?>[2 * numDense + numDense];
            for (int q = 0; q < 2 * numDense; q++) {
                wrt[q] = params.get(q).asOutput();
            }
            for (int q = 0; q < numDense; q++) {
                wrt[2 * numDense + q] = preActivations[q].asOutput();
            }
            Output<?>[] first = graph.addGradients("influence4j_grad", new Output<?>[] {total.asOutput()}, wrt,
                    new Output<?>[] {constant(1.0).asOutput()});
            gradientParts = new Output<?>[2 * numDense];
            System.arraycopy(first, 0, gradientParts, 0, 2 * numDense);
            gradient = flatConcat(gradientParts);
            denseInputs = new Output<?>[numDense];
            denseDeltas = new Output<?>[numDense];
            List<Operand<T>> pieces = new ArrayList<>();
            for (int q = 0; q < numDense; q++) {
                Operand<T> delta = (Operand<T>) first[2 * numDense + q];
                denseInputs[q] = inputs[q].asOutput();
                denseDeltas[q] = delta.asOutput();
                Operand<T> outer = tf.math.mul(tf.expandDims(delta, tf.constant(2)), tf.expandDims(inputs[q], tf.constant(1)));
                Layer.Dense d = denseLayer(spec, q);
                pieces.add(tf.reshape(outer, tf.constant(new int[] {-1, d.outFeatures() * d.inFeatures()})));
                pieces.add(delta);
            }
            perSampleGradients = tf.concat(pieces, tf.constant(1)).asOutput();

            Output<?>[] wrt2 = new Output<?>[2 * numDense + 1];
            Output<?>[] seeds = new Output<?>[2 * numDense];
            for (int q = 0; q < 2 * numDense; q++) {
                wrt2[q] = params.get(q).asOutput();
                seeds[q] = directions.get(q).asOutput();
            }
            wrt2[2 * numDense] = x.asOutput();
            Output<?>[] second = graph.addGradients("influence4j_hvp", gradientParts, wrt2, seeds);
            Output<?>[] hvParts = new Output<?>[2 * numDense];
            System.arraycopy(second, 0, hvParts, 0, 2 * numDense);
            hvp = flatConcat(hvParts);
            mixed = second[2 * numDense];
        } catch (RuntimeException | Error e) {
            graph.close();
            throw e;
        }
    }

    /**
     * The block HVP graph, built on first use: {@link #BLOCK} sets of direction placeholders, each
     * seeding its own second {@code addGradients} call on the shared first-order graph, so that one
     * session run computes the forward and first backward pass once for up to {@code BLOCK} HVPs.
     * (A session picks up nodes added to its graph after it was created.)
     *
     * @return the direction placeholders of each slot
     */
    synchronized List<List<Placeholder<T>>> blockDirections() {
        if (blockDirections == null) {
            List<List<Placeholder<T>>> slots = new ArrayList<>(BLOCK);
            Output<?>[] outs = new Output<?>[BLOCK];
            for (int r = 0; r < BLOCK; r++) {
                List<Placeholder<T>> slot = new ArrayList<>(params.size());
                Output<?>[] seeds = new Output<?>[params.size()];
                Output<?>[] wrt = new Output<?>[params.size()];
                for (int q = 0; q < params.size(); q++) {
                    Layer.Dense d = dense.get(q / 2);
                    Shape shape = q % 2 == 0 ? Shape.of(d.outFeatures(), d.inFeatures()) : Shape.of(d.outFeatures());
                    Placeholder<T> ph = tf.placeholder(type, Placeholder.shape(shape));
                    slot.add(ph);
                    seeds[q] = ph.asOutput();
                    wrt[q] = params.get(q).asOutput();
                }
                outs[r] = flatConcat(graph.addGradients("influence4j_hvp_block" + r, gradientParts, wrt, seeds));
                slots.add(List.copyOf(slot));
            }
            blockHvps = outs;
            blockDirections = List.copyOf(slots);
        }
        return blockDirections;
    }

    /** @return the HVP output of block slot {@code r} (after {@link #blockDirections()}) */
    synchronized Output<?> blockHvp(int r) {
        blockDirections();
        return blockHvps[r];
    }

    private static Layer.Dense denseLayer(ModelSpec spec, int index) {
        int j = 0;
        for (Layer l : spec.layers()) {
            if (l instanceof Layer.Dense d) {
                if (j == index) {
                    return d;
                }
                j++;
            }
        }
        throw new IllegalStateException("no dense layer " + index);
    }

    @SuppressWarnings("unchecked")
    private Output<?> flatConcat(Output<?>[] parts) {
        List<Operand<T>> flat = new ArrayList<>(parts.length);
        for (Output<?> part : parts) {
            flat.add(tf.reshape((Operand<T>) part, tf.constant(new int[] {-1})));
        }
        return tf.concat(flat, tf.constant(0)).asOutput();
    }

    private Operand<T> constant(double value) {
        return tf.dtypes.cast(tf.constant(value), type);
    }

    /** stop_gradient(z ≥ 0) (or z &gt; 0 when {@code strict}) as 0/1 in the model dtype. */
    private Operand<T> mask(Operand<T> z, boolean strict) {
        Operand<T> zero = constant(0.0);
        Operand<org.tensorflow.types.TBool> cmp = strict ? tf.math.greater(z, zero) : tf.math.greaterEqual(z, zero);
        return tf.stopGradient(tf.dtypes.cast(cmp, type));
    }

    /** s = 2m − 1 for m = stop_gradient(z ≥ 0): the sign of z with sign(0) = 1, carrying no gradient. */
    private Operand<T> sign(Operand<T> m) {
        return tf.math.sub(tf.math.mul(constant(2.0), m), constant(1.0));
    }

    private Operand<T> softplus(Operand<T> z) {
        Operand<T> m = mask(z, false);
        Operand<T> abs = tf.math.mul(sign(m), z);
        return tf.math.add(tf.math.mul(m, z), tf.math.log1p(tf.math.exp(tf.math.neg(abs))));
    }

    private Operand<T> activate(Activation activation, Operand<T> z) {
        return switch (activation) {
            case RELU -> tf.math.mul(z, mask(z, true));
            case IDENTITY -> z;
            case SOFTPLUS -> softplus(z);
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
            case SIGMOID -> {
                Operand<T> m = mask(z, false);
                Operand<T> e = tf.math.exp(tf.math.neg(tf.math.mul(sign(m), z)));
                Operand<T> numerator = tf.math.add(m, tf.math.mul(tf.math.sub(constant(1.0), m), e));
                yield tf.math.div(numerator, tf.math.add(constant(1.0), e));
            }
            case TANH -> {
                Operand<T> m = mask(z, false);
                Operand<T> s = sign(m);
                Operand<T> e = tf.math.expm1(tf.math.mul(constant(-2.0), tf.math.mul(s, z)));
                yield tf.math.mul(s, tf.math.div(tf.math.neg(e), tf.math.add(e, constant(2.0))));
            }
        };
    }

    private Operand<T> perSampleLoss(ModelSpec spec, Operand<T> f, Operand<T> target) {
        Operand<org.tensorflow.types.TInt32> axis = tf.constant(1);
        return switch (spec.loss()) {
            case MSE -> tf.math.mul(tf.reduceSum(tf.math.square(tf.math.sub(f, target)), axis),
                    constant(1.0 / spec.outputDim()));
            case SOFTMAX_CROSS_ENTROPY -> tf.math.neg(tf.reduceSum(tf.math.mul(target, tf.nn.logSoftmax(f)), axis));
            case BINARY_LOGISTIC -> tf.reduceSum(tf.math.sub(softplus(f), tf.math.mul(target, f)), axis);
        };
    }

    @Override
    public void close() {
        graph.close();
    }
}
