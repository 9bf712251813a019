package org.influence4j.calculators.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.provenance.Fingerprints;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.data.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Minibatch training with SGD (momentum) or Adam, as a PyTorch training loop would do it: every
 * epoch shuffles the samples with a seeded generator, then steps on each batch with the gradient
 * of the batch's mean loss plus {@code l2·θ}. After every {@code checkpointEvery} epochs (and the
 * last one) the parameters are written as a {@link Checkpoint} with the epoch's learning rate and
 * the run's id and identity ({@link Checkpoints}); a checkpoint folder holding another run's
 * checkpoints is refused before training starts.
 *
 * <p>The data are read into memory once ({@link DataSource#readAll()}) to shuffle them. Parameters
 * and optimizer state are kept on the host in double precision; gradients come from the model
 * ({@link TwiceDifferentiable#gradient}). The result reports the full objective
 * {@code J = mean loss + (l2/2)‖θ‖²} and its gradient norm after training (one extra pass);
 * {@code converged} is always false (no tolerance is used). A run that produces non-finite
 * parameters stops with an {@link IllegalStateException} advising a lower learning rate.
 */
public final class MinibatchTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(MinibatchTrainer.class);

    private final MinibatchOptions options;

    /** @param options optimizer, epochs, batches, seed, penalty and checkpoints */
    public MinibatchTrainer(MinibatchOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null");
        }
        this.options = options;
    }

    /** @return the options */
    public MinibatchOptions options() {
        return options;
    }

    /**
     * Trains {@code model} from its current parameters and leaves it at the result.
     *
     * @throws IllegalArgumentException naming {@code trainingData} if the data do not fit the model
     * @throws IllegalStateException if training diverges
     * @throws UncheckedIOException if a checkpoint cannot be written (no partial file is left)
     */
    public TrainingResult train(TwiceDifferentiable model, DataSource data) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (data == null) {
            throw new IllegalArgumentException("trainingData: must not be null");
        }
        Batch all = data.readAll();
        model.spec().validate(all, "trainingData");
        int n = all.size();
        int p = model.numParameters();
        double[] theta = model.parameters();
        Provenance run = null;
        if (options.checkpointDirectory() != null) {
            run = runRecord(model, theta, all);
            try {
                Checkpoints.requireFolderOfRun(options.checkpointDirectory(), run);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        double[] m = new double[p];
        double[] v = new double[p];
        SplittableRandom random = new SplittableRandom(options.seed());
        List<Checkpoint> checkpoints = new ArrayList<>();
        long step = 0;
        long batchesPerEpoch = (n + options.batchSize() - 1) / options.batchSize();
        options.progress().started("train", batchesPerEpoch * options.epochs());
        try (TensorScope scope = model.backend().newScope()) {
            for (int epoch = 1; epoch <= options.epochs(); epoch++) {
                double lr = options.learningRate(epoch);
                int[] order = permutation(n, random);
                double epochLoss = 0;
                for (int from = 0; from < n; from += options.batchSize()) {
                    int to = Math.min(n, from + options.batchSize());
                    int[] idx = java.util.Arrays.copyOfRange(order, from, to);
                    Batch batch = all.select(idx);
                    model.setParameters(theta);
                    double[] g;
                    try (Tensor gt = model.gradient(batch, scope)) {
                        g = gt.toDoubleArray();
                    }
                    epochLoss += model.loss(batch) * batch.size();
                    for (int i = 0; i < p; i++) {
                        g[i] += options.l2() * theta[i];
                    }
                    step++;
                    update(theta, g, m, v, lr, step);
                    options.progress().step(1);
                    for (int i = 0; i < p; i++) {
                        if (!Double.isFinite(theta[i])) {
                            throw new IllegalStateException("training diverged at epoch " + epoch + ", step " + step
                                    + " (parameter " + i + " is " + theta[i] + "); lower the learning rate (now "
                                    + lr + ")");
                        }
                    }
                }
                LOG.debug("epoch {}: mean minibatch loss {} (learning rate {})", epoch, epochLoss / n, lr);
                if (options.checkpointDirectory() != null
                        && (epoch % options.checkpointEvery() == 0 || epoch == options.epochs())) {
                    try {
                        checkpoints.add(Checkpoints.write(options.checkpointDirectory(), model.spec(), theta, lr,
                                epoch, step, run));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        } finally {
            options.progress().finished();
        }
        model.setParameters(theta);
        Objective objective = new Objective(model, data, new ObjectiveOptions(options.l2(), 0,
                Math.max(options.batchSize(), 512)));
        Objective.ValueAndGradient end = objective.valueAndGradient(theta);
        LOG.info("trained {} epochs ({} steps): J = {}, ‖∇J‖ = {}", options.epochs(), step, end.value(),
                end.gradientNorm());
        return new TrainingResult(theta, end.value(), end.gradientNorm(), (int) Math.min(Integer.MAX_VALUE, step),
                false, checkpoints);
    }

    /**
     * The identity of a training run: everything that determines its checkpoints — the recipe, the
     * model spec, the initial parameters, the data, the dtype and the backend — so that a rerun of the
     * same run has the same {@link Provenance#runId()} and any other run a different one.
     */
    private Provenance runRecord(TwiceDifferentiable model, double[] initial, Batch all) {
        return Provenance.empty()
                .with("trainer", "minibatch")
                .with("optimizer", options.optimizer())
                .with("epochs", options.epochs())
                .with("batch_size", options.batchSize())
                .with("seed", options.seed())
                .with("l2", options.l2())
                .with("learning_rate_decay", options.learningRateDecay())
                .with("checkpoint_every", options.checkpointEvery())
                .with("model.sha256", Fingerprints.sha256(model.spec().toJson()))
                .with("initial_parameters.sha256", Fingerprints.sha256(initial))
                .with("data.sha256", Fingerprints.sha256(new InMemoryDataSource(all)))
                .with("dtype", model.spec().dtype().jsonName())
                .with("backend", model.backend().name())
                .with("backend.version", model.backend().version());
    }

    private void update(double[] theta, double[] g, double[] m, double[] v, double lr, long step) {
        if (options.optimizer() instanceof Optimizer.Sgd sgd) {
            double mu = sgd.momentum();
            for (int i = 0; i < theta.length; i++) {
                m[i] = mu == 0 ? g[i] : (step == 1 ? g[i] : mu * m[i] + g[i]);
                theta[i] -= lr * m[i];
            }
        } else if (options.optimizer() instanceof Optimizer.Adam adam) {
            double b1 = adam.beta1();
            double b2 = adam.beta2();
            double c1 = 1 - Math.pow(b1, step);
            double c2 = 1 - Math.pow(b2, step);
            for (int i = 0; i < theta.length; i++) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mh = m[i] / c1;
                double vh = v[i] / c2;
                theta[i] -= lr * mh / (Math.sqrt(vh) + adam.epsilon());
            }
        }
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    @Override
    public String toString() {
        return "MinibatchTrainer" + options;
    }
}
