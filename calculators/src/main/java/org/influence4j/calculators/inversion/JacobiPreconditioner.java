package org.influence4j.calculators.inversion;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;

/**
 * Jacobi preconditioner {@code M = diag(A)} with the diagonal of {@code A = H + λI} estimated by
 * Hutchinson's method (pyDVL's {@code JacobiPreconditioner}): for Rademacher probes z_j,
 * {@code diag(A) ≈ (1/s) Σ_j z_j ⊙ A z_j}. All s probes go through <em>one</em> block data pass
 * (pyDVL uses one probe by default; here the default is 16 since more probes cost no extra pass).
 * A noisy estimate can be ≤ 0, which would make M indefinite: estimates are clamped from below at
 * {@code max(λ, 1e-8·max|estimate|)}. The number of clamped entries is reported in
 * {@link #details()}.
 */
public final class JacobiPreconditioner extends FittedPreconditioner {

    private final double[] inverseDiagonal;
    private Tensor block;

    private JacobiPreconditioner(TensorScope scope, double[] inverseDiagonal, Map<String, Object> details) {
        super(scope, details);
        this.inverseDiagonal = inverseDiagonal;
    }

    /**
     * @param operator A = H + λI
     * @param probes   Hutchinson probes s ≥ 1 (one block pass)
     * @param seed     seed of the probes
     * @throws IllegalArgumentException naming a bad argument
     */
    public static JacobiPreconditioner fit(HessianOperator operator, int probes, long seed) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        if (probes < 1) {
            throw new IllegalArgumentException("probes: must be >= 1, got " + probes);
        }
        int p = operator.dimension();
        Random random = new Random(seed);
        double[] z = new double[probes * p];
        for (int i = 0; i < z.length; i++) {
            z[i] = random.nextBoolean() ? 1 : -1;
        }
        double[] az;
        TensorScope own = operator.model().backend().newScope();
        try (TensorScope work = own.newChild(); Tensor zt = work.fromArray(z, operator.dtype(), probes, p);
             Tensor a = operator.apply(zt, work)) {
            az = a.toDoubleArray();
        } catch (RuntimeException e) {
            own.close();
            throw e;
        }
        double[] diag = new double[p];
        double max = 0;
        for (int j = 0; j < probes; j++) {
            for (int i = 0; i < p; i++) {
                diag[i] += z[j * p + i] * az[j * p + i] / probes;
            }
        }
        for (double d : diag) {
            max = Math.max(max, Math.abs(d));
        }
        double floor = Math.max(operator.regularization(), 1e-8 * max);
        if (!(floor > 0)) {
            floor = Double.MIN_NORMAL;
        }
        int clamped = 0;
        double[] inv = new double[p];
        for (int i = 0; i < p; i++) {
            double d = diag[i];
            if (!(d >= floor)) {
                d = floor;
                clamped++;
            }
            inv[i] = 1 / d;
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("preconditioner", "jacobi");
        details.put("hutchinsonProbes", probes);
        details.put("clampedDiagonalEntries", clamped);
        return new JacobiPreconditioner(own, inv, Map.copyOf(details));
    }

    /** @return the estimated inverse diagonal (after clamping) */
    public double[] inverseDiagonal() {
        return inverseDiagonal.clone();
    }

    @Override
    public Tensor apply(Tensor residuals, TensorScope target) {
        long[] shape = residuals.shape();
        int p = inverseDiagonal.length;
        int k = shape.length == 1 ? 1 : (int) shape[0];
        if (block == null || block.shape()[0] < k || block.dtype() != residuals.dtype()) {
            if (block != null) {
                block.close();
            }
            double[] rep = new double[k * p];
            for (int r = 0; r < k; r++) {
                System.arraycopy(inverseDiagonal, 0, rep, r * p, p);
            }
            block = scope.fromArray(rep, residuals.dtype(), k, p);
        }
        try (Tensor rows = block.rows(0, k);
             Tensor d = shape.length == 1 ? rows.reshape(p) : rows.reshape(k, p)) {
            return residuals.mul(d).moveTo(target);
        }
    }
}
