package org.influence4j.calculators.attribution;

import java.util.Iterator;
import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.internal.GradientChunks;
import org.influence4j.api.progress.ProgressListener;

/**
 * Any fitted influence-function method ({@link InfluenceFunctionModel}: Direct, CG, LiSSA, Arnoldi,
 * Nyström, EK-FAC or a plugin's) as a {@link TrainingDataAttribution}: the one adapter through which
 * every inverse-curvature method answers influences, self-influence and top-k.
 *
 * <p><b>Scores</b> are UP-mode influences {@code s(t, z) = ⟨H⁻¹∇θℓ(t), ∇θℓ(z)⟩} (H the method's
 * curvature plus λI, of the mean training loss): positive = proponent, as the interface says.
 * Self-influence is {@code ⟨H⁻¹∇θℓ(z), ∇θℓ(z)⟩}: per chunk of {@code chunkSize} training points one
 * batched per-sample gradient, one block solve and one row-wise product, all on the backend; only
 * the n values reach the host. Top-k solves the m test gradients once and streams training chunks
 * through one matrix product each.
 *
 * <p>Does not own the influence model (close it yourself). Not thread-safe unless the influence
 * model is.
 */
public final class InfluenceFunctionAttribution implements TrainingDataAttribution {

    private final TwiceDifferentiable model;
    private final InfluenceFunctionModel influence;
    private final int chunkSize;
    private final ProgressListener progress;

    /**
     * An adapter without progress reporting.
     *
     * @param model     the model {@code influence} was built on
     * @param influence a fitted influence model
     * @param chunkSize training points per self-influence chunk (memory: chunkSize × p values per chunk;
     *                  fewer points for wide models, {@link GradientChunks#bounded})
     * @throws IllegalArgumentException naming the argument that is null, unfitted or out of range
     */
    public InfluenceFunctionAttribution(TwiceDifferentiable model, InfluenceFunctionModel influence, int chunkSize) {
        this(model, influence, chunkSize, ProgressListener.NONE);
    }

    /**
     * @param progress receives the tasks "self-influence" and "top-k", one step per training chunk
     * @throws IllegalArgumentException naming the argument that is null, unfitted or out of range
     */
    public InfluenceFunctionAttribution(TwiceDifferentiable model, InfluenceFunctionModel influence, int chunkSize,
                                        ProgressListener progress) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (influence == null || !influence.isFitted()) {
            throw new IllegalArgumentException("influence: must be a fitted influence model; call fit(trainingData)"
                    + " first");
        }
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunkSize: must be > 0, got " + chunkSize);
        }
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
        this.model = model;
        this.influence = influence;
        this.chunkSize = GradientChunks.bounded(model, chunkSize);
        this.progress = progress;
    }

    private long chunks(DataSource train) {
        return (train.size() + chunkSize - 1) / chunkSize;
    }

    /** @return the influence model */
    public InfluenceFunctionModel influence() {
        return influence;
    }

    @Override
    public Tensor influences(Batch test, Batch train, TensorScope scope) {
        Attributions.requireNonEmpty(test, "test");
        Attributions.requireNonEmpty(train, "train");
        return influence.influences(test, train, InfluenceMode.UP, scope);
    }

    @Override
    public double[] selfInfluence(DataSource train) {
        Attributions.requireNonEmpty(train, "train");
        return progress.task("self-influence", chunks(train), () -> {
            double[] out = new double[Math.toIntExact(train.size())];
            int offset = 0;
            Iterator<Batch> it = train.batches(chunkSize);
            while (it.hasNext()) {
                Batch chunk = it.next();
                model.spec().validate(chunk, "train");
                try (TensorScope scope = model.backend().newScope()) {
                    Tensor gradients = model.perSampleGradients(chunk, scope);
                    Tensor factors = influence.inverseHessianProducts(gradients, scope);
                    double[] values = factors.rowDots(gradients).toDoubleArray();
                    System.arraycopy(values, 0, out, offset, values.length);
                }
                offset += chunk.size();
                progress.step(1);
            }
            return out;
        });
    }

    @Override
    public TopK topK(Batch test, DataSource train, int k, TopKOrder order) {
        return topK(test, train, k, List.of(order)).get(0);
    }

    /** {@inheritDoc} One pass over {@code train}: the test factors are solved once, every block scored once. */
    @Override
    public List<TopK> topK(Batch test, DataSource train, int k, List<TopKOrder> orders) {
        Attributions.requireTopK(model.spec(), test, train, k);
        return progress.task("top-k", chunks(train), () -> {
            try (TensorScope scope = model.backend().newScope()) {
                Tensor testFactors = influence.influenceFactors(test, scope);
                return Attributions.streamTopK(test.size(), train, k, orders, chunkSize, scope,
                        (chunk, offset, work) -> {
                            model.spec().validate(chunk, "train");
                            Tensor block = influence.influencesFromFactors(testFactors, chunk, InfluenceMode.UP, work);
                            progress.step(1);
                            return block;
                        });
            }
        });
    }

    @Override
    public String toString() {
        return "InfluenceFunctionAttribution[" + influence + "]";
    }
}
