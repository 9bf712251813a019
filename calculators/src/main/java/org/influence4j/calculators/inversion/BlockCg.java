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
 * kept orthonormal (rank-revealing, dependent directions are dropped; see
 * {@link DenseLinalg#orthonormalRows}) and then made A-orthonormal, so that the small systems
 * {@code (PᵀAP)⁻¹} become identities:
 * <pre>
 *   Q = A P;  Πᵀ(PᵀQ)Π = LLᵀ;  P ← L⁻¹ΠᵀP;  Q ← L⁻¹ΠᵀQ      (now PᵀAP = I)
 *   α = PᵀR;  X += Pα;  R −= Qα
 *   Z = M⁻¹R;  β = −QᵀZ;  P = orth(Z + Pβ)
 * </pre>
 * (written here with vectors as rows; Π the pivoting of a Cholesky factorisation). This is
 * O'Leary's {@code α = (PᵀAP)⁻¹PᵀR}, {@code β = −(PᵀAP)⁻¹QᵀZ} in another basis of the same
 * directions, without an eigendecomposition or an inverse on the host. One block data pass per
 * iteration; converged right-hand sides leave the block. A {@code PᵀAP} that is not positive
 * definite (its Cholesky factorisation stops at a non-positive pivot) holds a direction of
 * non-positive curvature: an {@link InversionException} advising a larger λ, stating the smallest
 * eigenvalue.
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
                dirs = orthonormalDirections(z);
            }
        }
        while (s.active.length > 0 && iteration < maxIterations && dirs != null) {
            iteration++;
            Tensor q = operator.apply(dirs, work);
            // A-orthonormal directions: with Πᵀ(PᵀAP)Π = LLᵀ and T = L⁻¹Πᵀ, P' = TP and Q' = AP' = TQ give
            // P'ᵀAP' = I, so α = P'ᵀR and β = −Q'ᵀZ need no k x k solves
            double[][] ptq = DenseLinalg.gram(dirs, q);
            double[][] whiten = DenseLinalg.pivotedCholeskyInverse(ptq, 0);
            if (whiten == null || whiten.length < ptq.length) {
                double min = smallestEigenvalue(ptq);
                q.close();
                dirs.close();
                s.close();
                throw new InversionException(Reason.NEGATIVE_CURVATURE,
                        "block conjugate gradient met non-positive curvature at iteration " + iteration + " (the"
                        + " Cholesky factorisation of PᵀAP stopped at a pivot <= 0; its smallest eigenvalue is "
                        + min + "): the Hessian plus regularization"
                        + " H + λI (λ = " + operator.regularization() + ") is not positive definite (the parameters"
                        + " are not at a minimum of the training loss); increase the hessian regularization λ");
            }
            Tensor dirsA = DenseLinalg.combine(whiten, dirs, work);
            Tensor qA = DenseLinalg.combine(whiten, q, work);
            q.close();
            dirs.close();
            double[][] alphaT = DenseLinalg.gram(s.r, dirsA);
            Tensor xNew;
            Tensor rNew;
            try (Tensor dx = DenseLinalg.combine(alphaT, dirsA, work);
                 Tensor dr = DenseLinalg.combine(alphaT, qA, work)) {
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
                dirsA.close();
                qA.close();
                dirs = null;
                break;
            }
            try (Tensor z = precondition(s.r)) {
                double[][] betaT = DenseLinalg.gram(z, qA);
                try (Tensor pb = DenseLinalg.combine(betaT, dirsA, work); Tensor zn = z.sub(pb)) {
                    dirs = orthonormalDirections(zn);
                }
            } finally {
                dirsA.close();
                qA.close();
            }
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

    /**
     * Orthonormal rows spanning the new search directions {@code z} ({@code [k, p]}), each row first
     * scaled to unit length: a direction is dropped only when it is (numerically) dependent on the
     * others, not because it is short. Without the scaling, the directions of right-hand sides that are
     * close to converging (residuals orders of magnitude below the others') fall under the drop
     * tolerance, which is relative to the longest row, and their solves stall.
     *
     * @return the rows, owned by work, or {@code null} if none is left
     */
    private Tensor orthonormalDirections(Tensor z) {
        double[] squares = RowBlocks.rowDots(z, z);
        double[] inverse = new double[squares.length];
        for (int i = 0; i < squares.length; i++) {
            inverse[i] = squares[i] > 0 ? 1 / Math.sqrt(squares[i]) : 0;
        }
        try (Tensor factors = work.fromArray(inverse, z.dtype(), inverse.length); Tensor unit = z.scaleRows(factors)) {
            return DenseLinalg.orthonormalRows(unit, dropTolerance, work);
        }
    }

    private Tensor precondition(Tensor r) {
        return preconditioner == null ? r.scale(1.0) : preconditioner.apply(r, work);
    }

    private static double smallestEigenvalue(double[][] symmetric) {
        double[] values = DenseLinalg.symmetricEigen(symmetric, DenseLinalg.DESCENDING).values();
        return values[values.length - 1];
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
