package org.influence4j.calculators.validation;

import java.util.Comparator;
import java.util.stream.IntStream;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.Objective;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.TrainingResult;

/**
 * Compares influence predictions with actual leave-one-out retraining (for convex models, whose
 * optimum Newton's method reaches from a warm start).
 *
 * <p>The model must sit at the optimum θ* of {@code J(θ) = (1/N) Σ_{j} ℓ_j(θ) + (l2/2)‖θ‖²} over
 * the n training points (N = n unless the objective fixes another normalizer). Removing point i
 * and retraining with the <em>same</em> 1/N scaling gives θ₋ᵢ. With the influence definition of
 * {@link org.influence4j.api.influence.InfluenceFunctionModel} and λ = l2, the first-order
 * prediction of the test-loss change is {@code L_test(θ₋ᵢ) − L_test(θ*) ≈ influence_i / N}.
 */
public final class LeaveOneOut {

    /**
     * Predicted and actual test-loss changes.
     *
     * @param removed   training indices removed one at a time (largest |influence| first)
     * @param predicted influence_i / N for each removed point
     * @param actual    L_test(θ₋ᵢ) − L_test(θ*) after retraining
     * @param pearson   Pearson's r between predicted and actual
     */
    public record Comparison(int[] removed, double[] predicted, double[] actual, double pearson) {
        public Comparison {
            removed = removed.clone();
            predicted = predicted.clone();
            actual = actual.clone();
        }

        @Override
        public int[] removed() {
            return removed.clone();
        }

        @Override
        public double[] predicted() {
            return predicted.clone();
        }

        @Override
        public double[] actual() {
            return actual.clone();
        }
    }

    private final ObjectiveOptions objective;
    private final NewtonTrainer trainer;

    /** Retrains with Newton's method to ‖∇J‖ &lt; 1e-10. */
    public LeaveOneOut(ObjectiveOptions objective) {
        this(objective, new NewtonOptions(1e-10, 50));
    }

    /**
     * @param objective the training objective the model was fitted with (l2 = λ)
     * @param newton    the retraining tolerance (tighter than the loss changes to be measured)
     */
    public LeaveOneOut(ObjectiveOptions objective, NewtonOptions newton) {
        if (objective == null || newton == null) {
            throw new IllegalArgumentException("objective and newton options must not be null");
        }
        this.objective = objective;
        this.trainer = new NewtonTrainer(newton);
    }

    /**
     * Removes, one at a time, the {@code k} training points with the largest |influence| on
     * {@code test}, retrains from θ* and records the change of the mean test loss. The model's
     * parameters are restored to θ* afterwards.
     *
     * @param model      the model at θ* on {@code train}
     * @param train      the n training points
     * @param test       the test point(s) whose mean loss is tracked
     * @param influences one value per training point: the influence on the test loss
     * @param k          how many points to remove, 2 ≤ k ≤ n
     * @throws IllegalArgumentException if the lengths do not match or k is out of range
     */
    public Comparison compare(TwiceDifferentiable model, Batch train, Batch test, double[] influences, int k) {
        int n = train.size();
        if (influences.length != n) {
            throw new IllegalArgumentException("influences: need one value per training point (" + n + "), got "
                    + influences.length);
        }
        if (k < 2 || k > n) {
            throw new IllegalArgumentException("k: must be in [2, " + n + "], got " + k);
        }
        double normalizer = objective.lossNormalizer() > 0 ? objective.lossNormalizer() : n;
        ObjectiveOptions fixedScale = objective.withLossNormalizer((long) normalizer);
        double[] optimum = model.parameters();
        double baseLoss = model.loss(test);
        int[] removed = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingDouble(i -> -Math.abs(influences[i])))
                .limit(k).mapToInt(Integer::intValue).toArray();
        double[] predicted = new double[k];
        double[] actual = new double[k];
        try {
            for (int r = 0; r < k; r++) {
                int i = removed[r];
                int[] keep = IntStream.range(0, n).filter(j -> j != i).toArray();
                Objective without = new Objective(model, new InMemoryDataSource(train.select(keep)), fixedScale);
                TrainingResult result = trainer.train(without, optimum);
                if (!result.converged()) {
                    throw new IllegalStateException("leave-one-out retraining without point " + i
                            + " did not converge (gradient norm " + result.gradientNorm()
                            + "); the model may not be convex or l2 is too small");
                }
                predicted[r] = influences[i] / normalizer;
                actual[r] = model.loss(test) - baseLoss;
            }
        } finally {
            model.setParameters(optimum);
        }
        return new Comparison(removed, predicted, actual, Correlation.pearson(predicted, actual));
    }

    @Override
    public String toString() {
        return "LeaveOneOut[" + objective + "]";
    }
}
