package org.influence4j.calculators.inversion;

import java.util.Set;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link ConjugateGradientSolver}s for every model type ({@link InversionMethod#CG}).
 * Settings (configuration prefix {@code influence.inversion.cg.}): {@code rtol}, {@code atol}
 * (doubles, default 1e-7), {@code maxiter} (integer, default 0 = the dimension of the operator),
 * {@code block} (block CG, default false), {@code preconditioner} ({@code none}, {@code jacobi},
 * {@code nystroem}), {@code preconditioner_rank} (Nyström rank, default 10),
 * {@code hutchinson_probes} (Jacobi probes, default 16), {@code seed} (default 0) and
 * {@code precompute} (materialise H + λI once, default false). Unknown keys are an error. Registered as a {@code META-INF/services} provider.
 */
public final class ConjugateGradientSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the relative tolerance. */
    public static final String RTOL = "rtol";
    /** Setting key of the absolute tolerance. */
    public static final String ATOL = "atol";
    /** Setting key of the iteration limit. */
    public static final String MAXITER = "maxiter";
    /** Setting key of the block-CG flag. */
    public static final String BLOCK = "block";
    /** Setting key of the preconditioner. */
    public static final String PRECONDITIONER = "preconditioner";
    /** Setting key of the Nyström preconditioner rank. */
    public static final String PRECONDITIONER_RANK = "preconditioner_rank";
    /** Setting key of the number of Hutchinson probes. */
    public static final String HUTCHINSON_PROBES = "hutchinson_probes";
    /** Setting key of the seed. */
    public static final String SEED = "seed";
    /** Setting key of the precompute flag. */
    public static final String PRECOMPUTE = "precompute";

    @Override
    public InversionMethod method() {
        return InversionMethod.CG;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireOnly("cg", Set.of(RTOL, ATOL, MAXITER, BLOCK, PRECONDITIONER, PRECONDITIONER_RANK,
                HUTCHINSON_PROBES, SEED, PRECOMPUTE));
        CgOptions options = new CgOptions(s.getDouble(RTOL, CgOptions.DEFAULT_RTOL),
                s.getDouble(ATOL, CgOptions.DEFAULT_ATOL), s.getInt(MAXITER, 0), s.getBoolean(BLOCK, false),
                PreconditionerKind.parse(s.get(PRECONDITIONER, "none")),
                s.getInt(PRECONDITIONER_RANK, CgOptions.DEFAULT_PRECONDITIONER_RANK),
                s.getInt(HUTCHINSON_PROBES, CgOptions.DEFAULT_HUTCHINSON_PROBES), s.getInt(SEED, 0),
                s.getBoolean(PRECOMPUTE, false));
        return new ConjugateGradientSolver(options);
    }

    @Override
    public String toString() {
        return "ConjugateGradientSolverFactory[" + modelType() + ", cg]";
    }
}
