package org.influence4j.calculators.influence;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.GradientBlock;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * {@code factors · ∇θℓ(train)ᵀ} from the training gradients' blocks
 * ({@link org.influence4j.api.TwiceDifferentiable#perSampleGradientBlocks}), none of them formed:
 * <ul>
 *   <li>columns G {@code [n, s]}: {@code Z_s Gᵀ};</li>
 *   <li>a Dense layer's factors (a {@code [n, in]}, δ {@code [n, out]}): the weight's part
 *       {@code δ_jᵀ Z_{i,W} a_j} as {@code (Z_W reshaped [m·out, in]) Aᵀ} weighted by δ and summed
 *       over out; the bias's {@code Z_b δᵀ};</li>
 *   <li>an Embedding's rows (ids, δ {@code [n, T, d]}): {@code Σ_t Z_i[id_{j,t}, :]·δ_{j,t}}, the rows of
 *       Z's table part gathered at the ids: {@code n·T·d·m} products against {@code n·V·d·m}.</li>
 * </ul>
 * The factors' pieces (transposed, reshaped) are made once, in the scope given, and kept for every
 * chunk; each chunk's work lands in its own step scope.
 */
final class BlockProducts {

    private final Tensor factors;
    private final TensorScope scope;
    private Tensor transposed;
    private final Map<String, Tensor> pieces = new HashMap<>();

    /**
     * @param factors {@code [m, p]}
     * @param scope   holds the factors' pieces while the products run
     */
    BlockProducts(Tensor factors, TensorScope scope) {
        this.factors = factors;
        this.scope = scope;
    }

    /** @return {@code [m, n]}: the factors times the gradients of the n samples the blocks hold, in {@code step} */
    Tensor scores(List<GradientBlock> blocks, TensorScope step) {
        Tensor sum = null;
        for (GradientBlock b : blocks) {
            Tensor term = switch (b.kind()) {
                case COLUMNS -> DenseLinalg.timesTransposed(columns(b.offset(), b.size()), b.gradients()).moveTo(step);
                case DENSE_FACTORS -> dense(b, step);
                case EMBEDDING_ROWS -> embedding(b, step);
            };
            sum = sum == null ? term : sum.add(term);
        }
        return sum;
    }

    private Tensor dense(GradientBlock b, TensorScope step) {
        Tensor a = b.inputs();
        Tensor delta = b.outputGradients();
        int n = (int) a.shape()[0];
        long in = a.shape()[1];
        long out = delta.shape()[1];
        int m = (int) factors.shape()[0];
        // y[(i, o), j] = Σ_c Z_i[o, c] a_j[c]; the score Σ_o y[(i, o), j] δ_j[o], as row dots of rows (j, i)
        Tensor weight = piece("w" + b.offset(), () -> columns(b.offset(), (int) (out * in)).reshape(m * out, in));
        Tensor y = weight.matmul(a.transpose()).moveTo(step);
        int[] repeated = new int[n * m];
        for (int r = 0; r < repeated.length; r++) {
            repeated[r] = r / m;
        }
        Tensor score = y.transpose().reshape((long) n * m, out).rowDots(delta.gatherRows(repeated))
                .reshape(n, m).transpose();
        if (!b.bias()) {
            return score;
        }
        Tensor bias = columns(b.offset() + (int) (out * in), (int) out);
        return score.add(DenseLinalg.timesTransposed(bias, delta).moveTo(step));
    }

    private Tensor embedding(GradientBlock b, TensorScope step) {
        long[] s = b.outputGradients().shape();
        int n = (int) s[0];
        long rows = s[0] * s[1];
        long d = s[2];
        int m = (int) factors.shape()[0];
        long vocabulary = b.size() / d;
        // table[v, (k, i)] = Z_i[v·d + k]
        Tensor table = piece("e" + b.offset(), () -> transposed().rows(b.offset(), b.offset() + (long) b.size())
                .reshape(vocabulary, d * m));
        Tensor gathered = table.gatherRows(b.ids()).moveTo(step).reshape(rows * d, m)
                .scaleRows(b.outputGradients().reshape(rows * d));
        double[] ones = new double[(int) (s[1] * d)];
        java.util.Arrays.fill(ones, 1);
        return gathered.transpose().reshape((long) m * n, s[1] * d)
                .matmul(step.fromArray(ones, factors.dtype(), ones.length)).reshape(m, n);
    }

    /** @return the factors' columns {@code [m, size]} from {@code offset}, kept */
    private Tensor columns(int offset, int size) {
        return piece("c" + offset + ":" + size, () -> transposed().rows(offset, offset + (long) size).transpose());
    }

    private Tensor transposed() {
        if (transposed == null) {
            transposed = factors.transpose().moveTo(scope);
        }
        return transposed;
    }

    /** @return the piece kept under {@code key}, made (and kept in the scope) on first use */
    private Tensor piece(String key, java.util.function.Supplier<Tensor> make) {
        Tensor kept = pieces.get(key);
        if (kept == null) {
            kept = make.get().moveTo(scope); // make may keep pieces itself: no computeIfAbsent
            pieces.put(key, kept);
        }
        return kept;
    }
}
