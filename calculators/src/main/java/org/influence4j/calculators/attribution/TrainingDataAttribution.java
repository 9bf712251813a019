package org.influence4j.calculators.attribution;

import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;

/**
 * A training-data attribution method: scores of training points on test points, self-influence
 * of training points, and top-k selection. Implemented by {@link InfluenceFunctionAttribution}
 * (every influence-function method, EK-FAC included), {@link FirstOrderInfluenceCalculator} and the
 * TracIn family ({@code org.influence4j.calculators.tracin}).
 *
 * <p><b>Sign and order contract (the same for every implementation).</b>
 * {@code s(test_i, train_j) > 0} means train_j is a <em>proponent</em> of test_i (removing it would
 * raise, or training on it lowered, the loss of test_i); {@code s < 0} marks an <em>opponent</em>.
 * {@link #topK} with {@link TopKOrder#PROPONENTS} returns the k largest scores, with
 * {@link TopKOrder#OPPONENTS} the k smallest; ties are broken by the smaller training index, so
 * the result equals {@link TopK#ofMatrix} of the full score matrix. Training indices count the
 * samples of the training source in iteration order, from 0.
 */
public interface TrainingDataAttribution {

    /**
     * Scores of every training point on every test point.
     *
     * @return a matrix {@code [m, n]} (m = test.size(), n = train.size()) owned by {@code scope}
     * @throws IllegalArgumentException naming {@code test} or {@code train} if a batch is empty or
     *     does not fit the model
     */
    Tensor influences(Batch test, Batch train, TensorScope scope);

    /**
     * Self-influence of every training point (the score of a point on itself; Captum's
     * {@code self_influence}), in the order of {@code train}.
     *
     * @return n values
     */
    double[] selfInfluence(DataSource train);

    /**
     * The k most influential training points for each test point, computed by streaming training
     * chunks through a bounded selection ({@link StreamingTopK}): memory O(m·k + m·chunk), never
     * the m×n matrix.
     *
     * @throws IllegalArgumentException if k ≤ 0, k &gt; n, or {@code test} is empty
     */
    TopK topK(Batch test, DataSource train, int k, TopKOrder order);

    /**
     * {@link #topK} for several orders at once (e.g. proponents and opponents); implementations may
     * share one pass over {@code train} between the orders.
     *
     * @return one selection per order, in the order of {@code orders}
     * @throws IllegalArgumentException as {@link #topK}, or if {@code orders} is empty
     */
    default List<TopK> topK(Batch test, DataSource train, int k, List<TopKOrder> orders) {
        if (orders == null || orders.isEmpty()) {
            throw new IllegalArgumentException("orders: give at least one order");
        }
        return orders.stream().map(order -> topK(test, train, k, order)).toList();
    }

    /**
     * The k training points of largest ({@link TopKOrder#PROPONENTS}) or smallest
     * ({@link TopKOrder#OPPONENTS}) self-influence, as a {@link TopK} with one row (e.g. for
     * mislabel detection: inspect the largest first).
     *
     * @throws IllegalArgumentException if k ≤ 0 or k &gt; n
     */
    default TopK topKSelfInfluence(DataSource train, int k, TopKOrder order) {
        Attributions.requireK(k, train.size());
        double[] self = selfInfluence(train);
        return TopK.ofMatrix(self, 1, self.length, k, order);
    }
}
