package org.influence4j.calculators.training;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limited-memory BFGS for smooth convex objectives with more parameters than Newton's method can
 * afford: the two-loop recursion over the last {@code memory} correction pairs (initial scaling
 * {@code sᵀy / yᵀy}), a strong-Wolfe line search, and a restart from the steepest descent
 * direction when the line search fails. Stops when {@code ‖∇J‖ < tolerance}. Each iteration costs
 * one or a few value/gradient passes; memory is {@code 2·memory·p} doubles.
 */
public final class LbfgsTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(LbfgsTrainer.class);

    private final LbfgsOptions options;

    /** A trainer with {@link LbfgsOptions#defaults()}. */
    public LbfgsTrainer() {
        this(LbfgsOptions.defaults());
    }

    /** @param options memory, tolerance and iteration limit */
    public LbfgsTrainer(LbfgsOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use LbfgsOptions.defaults()");
        }
        this.options = options;
    }

    /** Trains {@code model} on {@code data} from its current parameters and leaves it at the result. */
    public TrainingResult train(TwiceDifferentiable model, DataSource data, ObjectiveOptions objectiveOptions) {
        Objective objective = new Objective(model, data, objectiveOptions);
        return train(objective, model.parameters());
    }

    private record Pair(double[] s, double[] y, double rho) {
    }

    /**
     * Minimises {@code objective} from {@code initial}; the objective's model is left at the result.
     *
     * @throws IllegalArgumentException if {@code initial} has the wrong length
     */
    public TrainingResult train(Objective objective, double[] initial) {
        try (FullBatchRun run = new FullBatchRun(objective, initial, options.tolerance(), options.maxIterations(),
                options.progress(), "L-BFGS")) {
            int p = objective.dimension();
            Deque<Pair> pairs = new ArrayDeque<>();
            boolean restarted = false;
            while (run.running()) {
                double[] theta = run.theta();
                double[] g = run.current().gradient();
                double[] d = direction(g, pairs);
                if (Objective.dot(d, g) >= 0) {
                    pairs.clear();
                    d = negate(g);
                }
                double alpha0 = pairs.isEmpty() ? Math.min(1.0, 1.0 / Objective.norm(g)) : 1.0;
                LineSearch.Step step = LineSearch.strongWolfe(objective, theta, run.current(), d, alpha0);
                if (step == null) {
                    if (restarted || pairs.isEmpty()) {
                        run.lineSearchFailed(LOG, "L-BFGS");
                        break;
                    }
                    pairs.clear();
                    restarted = true;
                    continue;
                }
                restarted = false;
                run.countIteration();
                double[] s = new double[p];
                double[] y = new double[p];
                double[] gNew = step.evaluation().gradient();
                for (int i = 0; i < p; i++) {
                    s[i] = step.theta()[i] - theta[i];
                    y[i] = gNew[i] - g[i];
                }
                double sy = Objective.dot(s, y);
                if (sy > 1e-12 * Objective.norm(s) * Objective.norm(y)) {
                    if (pairs.size() == options.memory()) {
                        pairs.removeFirst();
                    }
                    pairs.addLast(new Pair(s, y, 1.0 / sy));
                }
                run.accept(step);
                LOG.debug("L-BFGS iteration {}: J = {}, ‖∇J‖ = {}", run.iteration(), run.current().value(),
                        run.current().gradientNorm());
            }
            return run.finish(LOG, "L-BFGS");
        }
    }

    /** The two-loop recursion: {@code −H_k ∇J}. */
    private static double[] direction(double[] g, Deque<Pair> pairs) {
        double[] q = g.clone();
        int m = pairs.size();
        double[] alphas = new double[m];
        Iterator<Pair> newestFirst = pairs.descendingIterator();
        for (int i = m - 1; i >= 0; i--) {
            Pair pair = newestFirst.next();
            alphas[i] = pair.rho() * Objective.dot(pair.s(), q);
            axpy(-alphas[i], pair.y(), q);
        }
        if (m > 0) {
            Pair last = pairs.peekLast();
            double gamma = Objective.dot(last.s(), last.y()) / Objective.dot(last.y(), last.y());
            for (int i = 0; i < q.length; i++) {
                q[i] *= gamma;
            }
        }
        int i = 0;
        for (Pair pair : pairs) {
            double beta = pair.rho() * Objective.dot(pair.y(), q);
            axpy(alphas[i] - beta, pair.s(), q);
            i++;
        }
        return negate(q);
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < y.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static double[] negate(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = -v[i];
        }
        return out;
    }

    @Override
    public String toString() {
        return "LbfgsTrainer" + options;
    }
}
