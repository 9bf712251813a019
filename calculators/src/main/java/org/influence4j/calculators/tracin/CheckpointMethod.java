package org.influence4j.calculators.tracin;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.progress.ProgressListener;
import org.influence4j.calculators.attribution.Attributions;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * Shared loop of the checkpoint methods: scores {@code Σ_c η_c · pair(rep_c(test), rep_c(train))}
 * where {@code rep_c} is a per-sample representation computed at checkpoint c. The model's
 * parameters are set to each checkpoint in turn and restored afterwards (also on failure).
 */
abstract class CheckpointMethod implements TrainingDataAttribution {

    protected final TwiceDifferentiable model;
    protected final TracInCheckpoints checkpoints;
    protected final int batchSize;
    /** Receives the self-influence and top-k tasks: one step per checkpoint and training chunk. */
    protected final ProgressListener progress;

    CheckpointMethod(TwiceDifferentiable model, TracInCheckpoints checkpoints, int batchSize,
                     ProgressListener progress) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (checkpoints == null) {
            throw new IllegalArgumentException("checkpoints: must not be null; use TracInCheckpoints.fromDirectory(...)");
        }
        if (checkpoints.parametersView(0).length != model.numParameters()) {
            throw new IllegalArgumentException("checkpoints: hold " + checkpoints.parametersView(0).length
                    + " parameters but the model has " + model.numParameters());
        }
        this.model = model;
        this.checkpoints = checkpoints;
        this.batchSize = batchSize;
        this.progress = progress == null ? ProgressListener.NONE : progress;
    }

    private long steps(DataSource train) {
        return checkpoints.size() * ((train.size() + batchSize - 1) / batchSize);
    }

    /** The per-sample representation of a batch at the model's current parameters. */
    abstract List<Tensor> represent(Batch batch, TensorScope scope);

    /** Scores {@code [m, n]} of two representations (without the learning rate). */
    abstract Tensor pair(List<Tensor> test, List<Tensor> train, TensorScope scope);

    /** Self scores {@code [n]} of a representation (without the learning rate). */
    abstract Tensor self(List<Tensor> rep, TensorScope scope);

    /** @return the checkpoints */
    public TracInCheckpoints checkpoints() {
        return checkpoints;
    }

    /** @return the model */
    public TwiceDifferentiable model() {
        return model;
    }

    private void validate(Batch batch, String argument) {
        Attributions.requireNonEmpty(batch, argument);
        model.spec().validate(batch, argument);
    }

    @Override
    public Tensor influences(Batch test, Batch train, TensorScope scope) {
        validate(test, "test");
        validate(train, "train");
        double[] original = model.parameters();
        try (TensorScope work = scope.newChild()) {
            Tensor acc = null;
            for (int c = 0; c < checkpoints.size(); c++) {
                model.setParameters(checkpoints.parametersView(c));
                try (TensorScope step = work.newChild()) {
                    Tensor s = pairInChunks(represent(test, step), train, step);
                    Tensor next = acc == null ? s.scale(checkpoints.learningRate(c)) : acc.axpy(checkpoints.learningRate(c), s);
                    next.moveTo(work);
                    if (acc != null) {
                        acc.close();
                    }
                    acc = next;
                }
            }
            return acc.moveTo(scope);
        } finally {
            model.setParameters(original);
        }
    }

    /**
     * {@link #pair} of the test representation with {@code train} represented chunk by chunk
     * ({@link #batchSize} samples at a time): scores {@code [m, n]} in {@code scope}. Where a
     * sample's representation has no more values than there are test rows (layer factors, a few
     * columns), the chunks' representations are joined and paired once (one large product, no
     * larger than the scores); otherwise (per-sample gradients: p values) only one chunk's
     * representation is held at a time and its scores are joined.
     */
    private Tensor pairInChunks(List<Tensor> test, Batch train, TensorScope scope) {
        if (train.size() <= batchSize) {
            return pair(test, represent(train, scope), scope);
        }
        long width = 0;
        for (Tensor t : test) {
            width += t.shape()[1];
        }
        if (width <= test.get(0).shape()[0]) {
            List<List<Tensor>> pieces = new ArrayList<>(test.size());
            for (int from = 0; from < train.size(); from += batchSize) {
                List<Tensor> rep = represent(train.slice(from, Math.min(from + batchSize, train.size())), scope);
                for (int t = 0; t < rep.size(); t++) {
                    if (pieces.size() <= t) {
                        pieces.add(new ArrayList<>());
                    }
                    pieces.get(t).add(rep.get(t));
                }
            }
            List<Tensor> joined = pieces.stream().map(DenseLinalg::stackRows).toList();
            return pair(test, joined, scope);
        }
        List<Tensor> blocks = new ArrayList<>(); // the scores transposed, [chunk, m]
        for (int from = 0; from < train.size(); from += batchSize) {
            try (TensorScope chunk = scope.newChild()) {
                Tensor block = pair(test, represent(train.slice(from, Math.min(from + batchSize, train.size())), chunk),
                        chunk);
                blocks.add(block.transpose().moveTo(scope));
            }
        }
        return DenseLinalg.stackRows(blocks).transpose().moveTo(scope);
    }

    @Override
    public double[] selfInfluence(DataSource train) {
        Attributions.requireNonEmpty(train, "train");
        return progress.task("TracIn self-influence", steps(train), () -> {
            double[] out = new double[Math.toIntExact(train.size())];
            double[] original = model.parameters();
            try (TensorScope scope = model.backend().newScope()) {
                for (int c = 0; c < checkpoints.size(); c++) {
                    model.setParameters(checkpoints.parametersView(c));
                    double lr = checkpoints.learningRate(c);
                    int offset = 0;
                    Iterator<Batch> it = train.batches(batchSize);
                    while (it.hasNext()) {
                        Batch chunk = it.next();
                        if (c == 0) {
                            // later passes read the same chunks (DataSource), which the model checks again
                            validate(chunk, "train");
                        }
                        try (TensorScope step = scope.newChild()) {
                            double[] s = self(represent(chunk, step), step).toDoubleArray();
                            for (int i = 0; i < s.length; i++) {
                                out[offset + i] += lr * s[i];
                            }
                        }
                        offset += chunk.size();
                        progress.step(1);
                    }
                }
            } finally {
                model.setParameters(original);
            }
            return out;
        });
    }

    @Override
    public TopK topK(Batch test, DataSource train, int k, TopKOrder order) {
        validate(test, "test");
        Attributions.requireNonEmpty(train, "train");
        Attributions.requireK(k, train.size());
        double[] original = model.parameters();
        progress.started("TracIn top-k", steps(train));
        try (TensorScope scope = model.backend().newScope()) {
            List<List<Tensor>> testReps = new ArrayList<>();
            for (int c = 0; c < checkpoints.size(); c++) {
                model.setParameters(checkpoints.parametersView(c));
                testReps.add(represent(test, scope));
            }
            return Attributions.streamTopK(test.size(), train, k, order, batchSize, scope, (chunk, offset, work) -> {
                validate(chunk, "train");
                Tensor acc = null;
                for (int c = 0; c < checkpoints.size(); c++) {
                    model.setParameters(checkpoints.parametersView(c));
                    // results belong to the receiver's (test) scope: move them into the chunk's scope
                    Tensor s = pair(testReps.get(c), represent(chunk, work), work).moveTo(work);
                    Tensor next = acc == null ? s.scale(checkpoints.learningRate(c))
                            : acc.axpy(checkpoints.learningRate(c), s);
                    s.close();
                    if (acc != null) {
                        acc.close();
                    }
                    acc = next;
                    progress.step(1);
                }
                return acc;
            });
        } finally {
            model.setParameters(original);
            progress.finished();
        }
    }
}
