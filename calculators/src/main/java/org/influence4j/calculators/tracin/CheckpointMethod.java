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
 * where {@code rep_c} is a per-sample representation computed at checkpoint c. Checkpoints are
 * computed {@link TracInOptions#threads()} at a time ({@link CheckpointWorkers}): on one thread the
 * model's parameters are set to each checkpoint in turn and restored afterwards (also on failure); on
 * more, each thread has its own replica of the model. Either way the checkpoints' scores are added in
 * checkpoint order.
 */
abstract class CheckpointMethod implements TrainingDataAttribution {

    protected final TwiceDifferentiable model;
    protected final TracInCheckpoints checkpoints;
    protected final int batchSize;
    /** Receives the self-influence and top-k tasks: one step per checkpoint and training chunk. */
    protected final ProgressListener progress;
    /** {@link TracInOptions#threads()}. */
    private final int threads;
    /** Serializes the progress steps of checkpoints computed at once. */
    private final Object progressLock = new Object();

    /** @throws IllegalArgumentException naming the argument that is null or does not fit the model */
    CheckpointMethod(TwiceDifferentiable model, TracInCheckpoints checkpoints, TracInOptions options) {
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
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use TracInOptions.defaults()");
        }
        this.model = model;
        this.checkpoints = checkpoints;
        this.batchSize = options.batchSize();
        this.progress = options.progress();
        CheckpointWorkers.requireReplicas(model, options.threads());
        this.threads = options.threads();
    }

    private long steps(DataSource train) {
        return checkpoints.size() * ((train.size() + batchSize - 1) / batchSize);
    }

    /**
     * The per-sample representation of a batch at {@code model}'s current parameters.
     *
     * @param model the method's model or a replica of it ({@link CheckpointWorkers}); implementations
     *              may be called by several threads at once, each with its own model
     */
    abstract List<Tensor> represent(TwiceDifferentiable model, Batch batch, TensorScope scope);

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

    /**
     * @param m the number of test points
     * @return how many test points a query holds the representations of at once (default: all);
     *     a query over more takes them in slices of this many and computes the training
     *     representations again for each slice
     */
    int testSlice(int m) {
        return m;
    }

    @Override
    public Tensor influences(Batch test, Batch train, TensorScope scope) {
        validate(test, "test");
        validate(train, "train");
        int rows = testSlice(test.size());
        if (rows >= test.size()) {
            return influencesOfSlice(test, train, scope);
        }
        List<Tensor> slices = new ArrayList<>();
        try (TensorScope work = scope.newChild()) {
            for (int from = 0; from < test.size(); from += rows) {
                slices.add(influencesOfSlice(test.slice(from, Math.min(from + rows, test.size())), train, work));
            }
            return DenseLinalg.stackRows(slices).moveTo(scope);
        }
    }

    /** {@link #influences} of test points whose representations are held at once. */
    private Tensor influencesOfSlice(Batch test, Batch train, TensorScope scope) {
        Tensor[] acc = {null};
        try (TensorScope work = scope.newChild(); CheckpointWorkers workers = workers()) {
            workers.forEach((on, c, own) -> {
                try (TensorScope step = own.newChild()) {
                    return pairInChunks(on, represent(on, test, step), train, step).moveTo(own);
                }
            }, (c, s) -> {
                try (s) {
                    Tensor next = acc[0] == null ? s.scale(checkpoints.learningRate(c))
                            : acc[0].axpy(checkpoints.learningRate(c), s);
                    next.moveTo(work);
                    if (acc[0] != null) {
                        acc[0].close();
                    }
                    acc[0] = next;
                }
            });
            return acc[0].moveTo(scope);
        }
    }

    /** @return the workers of one call ({@link TracInOptions#threads()}); the caller closes them */
    private CheckpointWorkers workers() {
        return new CheckpointWorkers(model, checkpoints, threads);
    }

    /**
     * {@link #pair} of the test representation with {@code train} represented chunk by chunk
     * ({@link #batchSize} samples at a time): scores {@code [m, n]} in {@code scope}. Where a
     * sample's representation has no more values than there are test rows (layer factors, a few
     * columns), the chunks' representations are joined and paired once (one large product, no
     * larger than the scores); otherwise (per-sample gradients: p values) only one chunk's
     * representation is held at a time and its scores are joined.
     */
    private Tensor pairInChunks(TwiceDifferentiable on, List<Tensor> test, Batch train, TensorScope scope) {
        if (train.size() <= batchSize) {
            return pair(test, represent(on, train, scope), scope);
        }
        long width = 0;
        for (Tensor t : test) {
            width += t.shape()[1];
        }
        if (width <= test.get(0).shape()[0]) {
            return pair(test, joinedInBatches(train, chunk -> represent(on, chunk, scope)), scope);
        }
        List<Tensor> blocks = new ArrayList<>(); // the scores transposed, [chunk, m]
        for (int from = 0; from < train.size(); from += batchSize) {
            try (TensorScope chunk = scope.newChild()) {
                Tensor block = pair(test, represent(on, train.slice(from, Math.min(from + batchSize, train.size())), chunk),
                        chunk);
                blocks.add(block.transpose().moveTo(scope));
            }
        }
        return DenseLinalg.stackRows(blocks).transpose().moveTo(scope);
    }

    /**
     * @return the representations of {@code batch} made {@link #batchSize} samples at a time by
     *     {@code represent}, each piece's tensors joined along the rows
     */
    final List<Tensor> joinedInBatches(Batch batch, java.util.function.Function<Batch, List<Tensor>> represent) {
        List<List<Tensor>> pieces = new ArrayList<>();
        for (int from = 0; from < batch.size(); from += batchSize) {
            List<Tensor> rep = represent.apply(batch.slice(from, Math.min(from + batchSize, batch.size())));
            for (int t = 0; t < rep.size(); t++) {
                if (pieces.size() <= t) {
                    pieces.add(new ArrayList<>());
                }
                pieces.get(t).add(rep.get(t));
            }
        }
        return pieces.stream().map(DenseLinalg::stackRows).toList();
    }

    @Override
    public double[] selfInfluence(DataSource train) {
        Attributions.requireNonEmpty(train, "train");
        int n = Math.toIntExact(train.size());
        return progress.task("TracIn self-influence", steps(train), () -> {
            double[] out = new double[n];
            try (CheckpointWorkers workers = workers()) {
                workers.forEach((on, c, own) -> {
                    double[] scores = new double[n];
                    int offset = 0;
                    Iterator<Batch> it = train.batches(batchSize);
                    while (it.hasNext()) {
                        Batch chunk = it.next();
                        if (c == 0) {
                            // the other checkpoints read the same chunks (DataSource), which the model checks again
                            validate(chunk, "train");
                        }
                        try (TensorScope step = own.newChild()) {
                            double[] s = self(represent(on, chunk, step), step).toDoubleArray();
                            System.arraycopy(s, 0, scores, offset, s.length);
                        }
                        offset += chunk.size();
                        synchronized (progressLock) {
                            progress.step(1);
                        }
                    }
                    return scores;
                }, (c, scores) -> {
                    double lr = checkpoints.learningRate(c);
                    for (int i = 0; i < n; i++) {
                        out[i] += lr * scores[i];
                    }
                });
            }
            return out;
        });
    }

    @Override
    public TopK topK(Batch test, DataSource train, int k, TopKOrder order) {
        validate(test, "test");
        Attributions.requireNonEmpty(train, "train");
        Attributions.requireK(k, train.size());
        int m = test.size();
        int rows = testSlice(m);
        progress.started("TracIn top-k", steps(train) * ((m + rows - 1) / rows));
        try {
            if (rows >= m) {
                return topKOfSlice(test, train, k, order);
            }
            long[][] indices = new long[m][];
            double[][] scores = new double[m][];
            for (int from = 0; from < m; from += rows) {
                TopK slice = topKOfSlice(test.slice(from, Math.min(from + rows, m)), train, k, order);
                for (int i = 0; i < slice.numRows(); i++) {
                    indices[from + i] = slice.indices(i);
                    scores[from + i] = slice.scores(i);
                }
            }
            return new TopK(indices, scores, order);
        } finally {
            progress.finished();
        }
    }

    /** {@link #topK} of test points whose representations are held at once (progress steps only). */
    private TopK topKOfSlice(Batch test, DataSource train, int k, TopKOrder order) {
        try (TensorScope scope = model.backend().newScope(); CheckpointWorkers workers = workers()) {
            List<List<Tensor>> testReps = new ArrayList<>();
            workers.forEach((on, c, own) -> represent(on, test, own), (c, rep) -> testReps.add(rep));
            return Attributions.streamTopK(test.size(), train, k, order, batchSize, scope, (chunk, offset, work) -> {
                validate(chunk, "train");
                Tensor[] acc = {null};
                workers.forEach((on, c, own) -> {
                    try (TensorScope step = own.newChild()) {
                        // the scores belong to the test representation's scope (own): step frees the rest
                        return pair(testReps.get(c), represent(on, chunk, step), step).moveTo(own);
                    }
                }, (c, s) -> {
                    try (s) {
                        s.moveTo(work);
                        Tensor next = acc[0] == null ? s.scale(checkpoints.learningRate(c))
                                : acc[0].axpy(checkpoints.learningRate(c), s);
                        if (acc[0] != null) {
                            acc[0].close();
                        }
                        acc[0] = next;
                        progress.step(1);
                    }
                });
                return acc[0];
            });
        }
    }
}
