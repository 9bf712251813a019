package org.influence4j.calculators.inversion;

import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionException.Reason;
import org.influence4j.api.progress.ProgressListener;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * True block (preconditioned) conjugate gradient (O'Leary 1980, in the stabilised form of pyDVL's
 * {@code use_block_cg}): all active right-hand sides share one block of search directions P,
 * kept orthonormal (rank-revealing, dependent directions are dropped) to stabilise the small
 * systems {@code (PᵀAP)⁻¹}:
 * <pre>
 *   Q = A P;  α = (PᵀQ)⁻¹ PᵀR;  X += Pα;  R −= Qα
 *   Z = M⁻¹R;  β = −(PᵀQ)⁻¹ QᵀZ;  P = orth(Z + Pβ)
 * </pre>
 * (written here with vectors as rows). One block data pass per iteration; converged right-hand
 * sides leave the block. {@code PᵀAP} with a non-positive eigenvalue is a direction of
 * non-positive curvature: an {@link InversionException} advising a larger λ.
 * Package-private: used by {@link ConjugateGradientSolver} when {@link CgOptions#block()}.
 */
final class BlockCg {

    private final HessianOperator operator;
    private final CgOptions options;
    private final ProgressListener progress;
    private final Preconditioner preconditioner;
    private final TensorScope work;
    private final SolveTracker tracker;
    private final int k;
    private final int p;
    private final double dropTolerance;

    BlockCg(HessianOperator operator, CgOptions options, ProgressListener progress, Preconditioner preconditioner,
            TensorScope work, SolveTracker tracker) {
        this.operator = operator;
        this.options = options;
        this.progress = progress;
        this.preconditioner = preconditioner;
        this.work = work;
        this.tracker = tracker;
        this.k = tracker.size();
        this.p = operator.dimension();
        double eps = operator.dtype() == DType.FLOAT64 ? Math.ulp(1.0) : Math.ulp(1.0f);
        this.dropTolerance = 100 * eps;
    }

    /**
     * @param b  right-hand sides {@code [k, p]} in the operator dtype, owned by work (consumed)
     * @param x0 initial guesses or {@code null}, owned by work (consumed)
     * @return the solutions {@code [k, p]}, owned by work
     */
    Tensor solve(Tensor b, Tensor x0) {
        RowBlocks.Start start = RowBlocks.Start.of(operator, b, x0, work);
        double[] rr = RowBlocks.rowDots(start.r(), start.r());
        Block s = tracker.retire(new Block(RowBlocks.allRows(k), start.x(), start.r(), rr));
        Tensor dirs = null;
        int maxIterations = options.maxIterationsFor(p);
        int iteration = 0;
        boolean stagnated = false;
        if (s.active.length > 0) {
            try (Tensor z = precondition(s.r)) {
                dirs = DenseLinalg.orthonormalRows(z, dropTolerance, work);
            }
        }
        while (s.active.length > 0 && iteration < maxIterations && dirs != null) {
            iteration++;
            Tensor q = operator.apply(dirs, work);
            double[][] ptq = DenseLinalg.gram(dirs, q);
            DenseLinalg.Eigen e = DenseLinalg.symmetricEigen(ptq, DenseLinalg.DESCENDING);
            double min = e.values()[e.values().length - 1];
            if (!(min > 0)) {
                q.close();
                dirs.close();
                s.close();
                throw new InversionException(Reason.NEGATIVE_CURVATURE,
                        "block conjugate gradient met curvature " + min + " <= 0 (smallest"
                        + " eigenvalue of PᵀAP) at iteration " + iteration + ": the Hessian plus regularization"
                        + " H + λI (λ = " + operator.regularization() + ") is not positive definite (the parameters"
                        + " are not at a minimum of the training loss); increase the hessian regularization λ");
            }
            double[][] inv = inverseFromEigen(e);
            double[][] alphaT = DenseLinalg.transpose(DenseLinalg.times(inv, DenseLinalg.gram(dirs, s.r)));
            Tensor xNew;
            Tensor rNew;
            try (Tensor dx = DenseLinalg.combine(alphaT, dirs, work);
                 Tensor dr = DenseLinalg.combine(alphaT, q, work)) {
                xNew = s.x.add(dx);
                rNew = s.r.sub(dr);
            }
            double[] rrNew = RowBlocks.rowDots(rNew, rNew);
            for (int j = 0; j < s.active.length; j++) {
                if (!Double.isFinite(rrNew[j])) {
                    throw new InversionException(Reason.DIVERGENCE,
                            "block conjugate gradient diverged (non-finite residual) at"
                            + " iteration " + iteration + "; check the Hessian for NaN/Inf and increase the hessian"
                            + " regularization λ");
                }
                tracker.iterated(s.active[j]);
            }
            s.close();
            s = tracker.retire(new Block(s.active, xNew, rNew, rrNew));
            progress.step(1);
            if (s.active.length == 0) {
                q.close();
                dirs.close();
                dirs = null;
                break;
            }
            Tensor next;
            try (Tensor z = precondition(s.r)) {
                double[][] betaT = DenseLinalg.transpose(DenseLinalg.times(inv, DenseLinalg.gram(q, z)));
                for (double[] row : betaT) {
                    for (int i = 0; i < row.length; i++) {
                        row[i] = -row[i];
                    }
                }
                try (Tensor pb = DenseLinalg.combine(betaT, dirs, work); Tensor zn = z.add(pb)) {
                    next = DenseLinalg.orthonormalRows(zn, dropTolerance, work);
                }
            }
            q.close();
            dirs.close();
            dirs = next;
            if (dirs == null) {
                stagnated = true;
            }
        }
        if (dirs != null) {
            dirs.close();
        }
        if (s.active.length > 0) {
            tracker.stopped(stagnated ? "stagnated: no independent search direction left after " + iteration
                    + " iterations" : "reached maxiter = " + maxIterations, s.active);
            tracker.finishAll(s.active, s.x, s.rr);
        }
        s.close();
        return tracker.solutions();
    }

    private Tensor precondition(Tensor r) {
        return preconditioner == null ? r.scale(1.0) : preconditioner.apply(r, work);
    }

    private static double[][] inverseFromEigen(DenseLinalg.Eigen e) {
        int n = e.values().length;
        double[][] inv = new double[n][n];
        for (int q = 0; q < n; q++) {
            double[] v = e.vectors()[q];
            double w = 1 / e.values()[q];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    inv[i][j] += w * v[i] * v[j];
                }
            }
        }
        return inv;
    }

    /** Active right-hand sides (original indices) with their solutions and residuals as rows. */
    private record Block(int[] active, Tensor x, Tensor r, double[] rr) implements SolveTracker.ActiveRows<Block> {
        @Override
        public Block keep(int[] positions) {
            return new Block(RowBlocks.select(active, positions), RowBlocks.gather(x, positions),
                    RowBlocks.gather(r, positions), RowBlocks.select(rr, positions));
        }

        @Override
        public Block empty() {
            return new Block(new int[0], null, null, new double[0]);
        }

        @Override
        public void close() {
            if (x != null) {
                x.close();
                r.close();
            }
        }
    }
}
