package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InversionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private static final Logger LOG = LoggerFactory.getLogger(BlockCg.class);

    private final HessianOperator operator;
    private final CgOptions options;
    private final IterationListener listener;
    private final Preconditioner preconditioner;
    private final TensorScope work;
    private final int k;
    private final int p;
    private final int[] iterations;
    private final double[] residuals;
    private final List<String> warnings;
    private final Tensor[] finished;
    private final double dropTolerance;

    BlockCg(HessianOperator operator, CgOptions options, IterationListener listener, Preconditioner preconditioner,
            TensorScope work, int k, int p, int[] iterations, double[] residuals, List<String> warnings) {
        this.operator = operator;
        this.options = options;
        this.listener = listener;
        this.preconditioner = preconditioner;
        this.work = work;
        this.k = k;
        this.p = p;
        this.iterations = iterations;
        this.residuals = residuals;
        this.warnings = warnings;
        this.finished = new Tensor[k];
        double eps = operator.dtype() == DType.FLOAT64 ? Math.ulp(1.0) : Math.ulp(1.0f);
        this.dropTolerance = 100 * eps;
    }

    /**
     * @param b  right-hand sides {@code [k, p]} in the operator dtype, owned by work (consumed)
     * @param x0 initial guesses or {@code null}, owned by work (consumed)
     * @return the solutions {@code [k, p]}, owned by work
     */
    Tensor solve(Tensor b, Tensor x0) {
        DType dtype = operator.dtype();
        double[] bNorm = sqrt(ConjugateGradientSolver.rowDots(b, b));
        double[] tol = new double[k];
        for (int i = 0; i < k; i++) {
            if (!Double.isFinite(bNorm[i])) {
                throw new IllegalArgumentException("rhs: row " + i + " has non-finite values");
            }
            tol[i] = Math.max(options.rtol() * bNorm[i], options.atol());
        }
        Tensor x;
        Tensor r;
        if (x0 == null) {
            x = work.zeros(dtype, k, p);
            r = b;
        } else {
            x = x0;
            try (Tensor ax = operator.apply(x, work)) {
                r = b.sub(ax);
            }
            b.close();
        }
        int[] active = new int[k];
        for (int i = 0; i < k; i++) {
            active[i] = i;
        }
        double[] rr = ConjugateGradientSolver.rowDots(r, r);
        Block s = retire(new Block(active, x, r, rr), bNorm, tol);
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
                throw new InversionException("block conjugate gradient met curvature " + min + " <= 0 (smallest"
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
            double[] rrNew = ConjugateGradientSolver.rowDots(rNew, rNew);
            for (int j = 0; j < s.active.length; j++) {
                if (!Double.isFinite(rrNew[j])) {
                    throw new InversionException("block conjugate gradient diverged (non-finite residual) at"
                            + " iteration " + iteration + "; check the Hessian for NaN/Inf and increase the hessian"
                            + " regularization λ");
                }
                iterations[s.active[j]]++;
            }
            s.close();
            s = retire(new Block(s.active, xNew, rNew, rrNew), bNorm, tol);
            if (listener != null) {
                listener.iterationDone(iteration, s.active.length, k, maxRelative(s, bNorm));
            }
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
            double worst = maxRelative(s, bNorm);
            String warning = (stagnated ? "block conjugate gradient stagnated (no independent search direction"
                    + " left) after " + iteration + " iterations" : "block conjugate gradient reached maxiter = "
                    + maxIterations) + " before ‖r‖ <= max(rtol·‖b‖, atol) (rtol = " + options.rtol() + ", atol = "
                    + options.atol() + ") for " + s.active.length + " of " + k + " right-hand sides (largest"
                    + " relative residual " + worst + "); these solutions are not accurate: raise maxiter, loosen"
                    + " the tolerances, or increase the hessian regularization λ (now " + operator.regularization()
                    + ") to improve the conditioning";
            LOG.warn(warning);
            warnings.add(warning);
            int[] all = new int[s.active.length];
            for (int j = 0; j < all.length; j++) {
                all[j] = j;
            }
            finish(s, all, bNorm);
        }
        s.close();
        return ConjugateGradientSolver.concatAll(new ArrayList<>(Arrays.asList(finished)));
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

    private Block retire(Block s, double[] bNorm, double[] tol) {
        int ka = s.active.length;
        int[] done = new int[ka];
        int[] keep = new int[ka];
        int nd = 0;
        int nk = 0;
        for (int j = 0; j < ka; j++) {
            if (Math.sqrt(s.rr[j]) <= tol[s.active[j]]) {
                done[nd++] = j;
            } else {
                keep[nk++] = j;
            }
        }
        if (nd == 0) {
            return s;
        }
        finish(s, Arrays.copyOf(done, nd), bNorm);
        if (nk == 0) {
            s.close();
            return new Block(new int[0], null, null, new double[0]);
        }
        int[] kept = Arrays.copyOf(keep, nk);
        int[] active = new int[nk];
        double[] rr = new double[nk];
        for (int j = 0; j < nk; j++) {
            active[j] = s.active[kept[j]];
            rr[j] = s.rr[kept[j]];
        }
        Block next = new Block(active, ConjugateGradientSolver.gather(s.x, kept),
                ConjugateGradientSolver.gather(s.r, kept), rr);
        s.close();
        return next;
    }

    private void finish(Block s, int[] positions, double[] bNorm) {
        for (int j : positions) {
            int original = s.active[j];
            finished[original] = s.x.rows(j, j + 1);
            double norm = Math.sqrt(s.rr[j]);
            residuals[original] = bNorm[original] > 0 ? norm / bNorm[original] : norm;
        }
    }

    private static double maxRelative(Block s, double[] bNorm) {
        double worst = 0;
        for (int j = 0; j < s.active.length; j++) {
            double norm = Math.sqrt(s.rr[j]);
            double b = bNorm[s.active[j]];
            worst = Math.max(worst, b > 0 ? norm / b : norm);
        }
        return worst;
    }

    private static double[] sqrt(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.sqrt(v[i]);
        }
        return out;
    }

    /** Active right-hand sides (original indices) with their solutions and residuals as rows. */
    private record Block(int[] active, Tensor x, Tensor r, double[] rr) {
        void close() {
            if (x != null) {
                x.close();
                r.close();
            }
        }
    }
}
