package org.influence4j.calculators.influence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;

/**
 * Products of influence factors with training-sample derivatives, shared by the influence models.
 */
final class InfluenceProducts {

    private InfluenceProducts() {
    }

    /**
     * @throws IllegalArgumentException naming {@code factors} if it is null or not {@code [m, p]}
     */
    static void requireFactors(Tensor factors, int p) {
        if (factors == null) {
            throw new IllegalArgumentException("factors: must not be null");
        }
        long[] shape = factors.shape();
        if (shape.length != 2 || shape[1] != p) {
            throw new IllegalArgumentException("factors: shape " + Arrays.toString(shape) + " is not [m, " + p
                    + "]; pass the output of influenceFactors");
        }
    }

    /**
     * Perturbation influences {@code out[t, i, :] = ∇_{x_i} ⟨factors[t,:], ∇θℓ(x_i, y_i)⟩}, from
     * {@link TwiceDifferentiable#mixedGradientProducts} on chunks of at most {@code chunk} training
     * samples; the chunks are joined on the backend.
     *
     * @return {@code [m, n, inputDim]}, owned by {@code scope}
     */
    static Tensor perturbation(TwiceDifferentiable model, Tensor factors, Batch train, int chunk, TensorScope scope) {
        int n = train.size();
        int m = Math.toIntExact(factors.shape()[0]);
        int inputDim = model.spec().inputDim();
        if (n <= chunk) {
            return model.mixedGradientProducts(train, factors, scope);
        }
        try (TensorScope work = scope.newChild()) {
            // Chunks [m, nc, d] are joined along n: as [m, nc*d] matrices their transposes stack
            // along dimension 0, which is the one concatenation the tensor contract offers. Pairwise
            // (balanced) joining copies every value O(log chunks) times.
            List<Tensor> parts = new ArrayList<>();
            for (int from = 0; from < n; from += chunk) {
                int to = Math.min(n, from + chunk);
                try (TensorScope step = work.newChild()) {
                    Tensor mixed = model.mixedGradientProducts(train.slice(from, to), factors, step);
                    parts.add(mixed.reshape(m, (long) (to - from) * inputDim).transpose().moveTo(work));
                }
            }
            while (parts.size() > 1) {
                List<Tensor> next = new ArrayList<>((parts.size() + 1) / 2);
                for (int k = 0; k + 1 < parts.size(); k += 2) {
                    next.add(parts.get(k).concat(parts.get(k + 1)));
                    parts.get(k).close();
                    parts.get(k + 1).close();
                }
                if (parts.size() % 2 == 1) {
                    next.add(parts.get(parts.size() - 1));
                }
                parts = next;
            }
            Tensor stacked = parts.get(0);
            Tensor result = stacked.transpose().reshape(m, n, inputDim);
            return result.moveTo(scope);
        }
    }
}
