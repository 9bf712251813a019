package org.influence4j.calculators.validation;

import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.calculators.attribution.TrainingDataAttribution;

/**
 * Leave-one-out checks for any {@link TrainingDataAttribution} (influence functions or TracIn),
 * reusing {@link LeaveOneOut}: the method's scores on the mean test loss are the mean of its score
 * rows over the test points; the k training points of largest |score| are removed one at a time,
 * the model retrained by Newton's method, and Pearson's r of predicted and actual test-loss changes
 * reported (r is invariant to the scale of the scores, so TracIn scores can be compared too).
 */
public final class AttributionQuality {

    private AttributionQuality() {
    }

    /**
     * @param model the convex model at its optimum on {@code train}
     * @param k     how many points to remove
     * @return the comparison of {@link LeaveOneOut#compare}
     */
    public static LeaveOneOut.Comparison leaveOneOut(TrainingDataAttribution method, LeaveOneOut loo,
                                                     TwiceDifferentiable model, Batch train, Batch test, int k) {
        if (method == null || loo == null || model == null) {
            throw new IllegalArgumentException("method, loo and model must not be null");
        }
        double[] mean = new double[train.size()];
        try (TensorScope scope = model.backend().newScope()) {
            double[] s = method.influences(test, train, scope).toDoubleArray();
            int m = test.size();
            int n = train.size();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    mean[j] += s[i * n + j] / m;
                }
            }
        }
        return loo.compare(model, train, test, mean, k);
    }
}
