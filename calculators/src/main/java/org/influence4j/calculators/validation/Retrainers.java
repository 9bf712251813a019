package org.influence4j.calculators.validation;

import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.Objective;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.TrainingResult;

/** {@link Retrainer}s built on the project's trainers. Each restores the model's parameters after every retraining. */
public final class Retrainers {

    private Retrainers() {
    }

    /**
     * Newton's method to convergence from the model's current parameters (a warm start), for convex
     * models such as L2-regularised logistic regression. The objective is that of {@code objective}
     * over the subset (its loss normalizer, if set, is kept; otherwise the mean over the subset).
     *
     * @throws IllegalStateException from {@link Retrainer#testLosses} if a retraining does not converge
     */
    public static Retrainer newton(TwiceDifferentiable model, Batch train, Batch test, ObjectiveOptions objective,
                                   NewtonOptions newton) {
        requireArguments(model, train, test);
        if (objective == null || newton == null) {
            throw new IllegalArgumentException("objective and newton options must not be null");
        }
        NewtonTrainer trainer = new NewtonTrainer(newton);
        return subset -> {
            double[] start = model.parameters();
            try {
                Objective o = new Objective(model, new InMemoryDataSource(train.select(subset)), objective);
                TrainingResult r = trainer.train(o, start);
                if (!r.converged()) {
                    throw new IllegalStateException("retraining on " + subset.length + " points did not converge"
                            + " (gradient norm " + r.gradientNorm() + "); raise l2 or the iteration limit");
                }
                return losses(model, test);
            } finally {
                model.setParameters(start);
            }
        };
    }

    /**
     * Minibatch SGD/Adam from fixed initial parameters (the same for every subset), e.g. for an MLP.
     *
     * @param initial θ₀ of every retraining
     */
    public static Retrainer minibatch(TwiceDifferentiable model, Batch train, Batch test, MinibatchOptions options,
                                      double[] initial) {
        requireArguments(model, train, test);
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null");
        }
        if (options.checkpointDirectory() != null) {
            throw new IllegalArgumentException("options: retraining writes no checkpoints; remove checkpointDirectory");
        }
        model.spec().validateParameters(initial, "initial");
        double[] theta0 = initial.clone();
        MinibatchTrainer trainer = new MinibatchTrainer(options);
        return subset -> {
            double[] start = model.parameters();
            try {
                model.setParameters(theta0);
                trainer.train(model, new InMemoryDataSource(train.select(subset)));
                return losses(model, test);
            } finally {
                model.setParameters(start);
            }
        };
    }

    private static void requireArguments(TwiceDifferentiable model, Batch train, Batch test) {
        if (model == null || train == null || test == null) {
            throw new IllegalArgumentException("model, train and test must not be null");
        }
        if (train.size() == 0 || test.size() == 0) {
            throw new IllegalArgumentException((train.size() == 0 ? "train" : "test") + ": is empty");
        }
        model.spec().validate(train, "train");
        model.spec().validate(test, "test");
    }

    static double[] losses(TwiceDifferentiable model, Batch test) {
        try (TensorScope scope = model.backend().newScope()) {
            return model.perSampleLosses(test, scope).toDoubleArray();
        }
    }
}
