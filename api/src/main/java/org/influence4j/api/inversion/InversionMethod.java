package org.influence4j.api.inversion;

import java.util.Arrays;
import java.util.Locale;

/** The ways of applying H⁻¹ that influence4j knows by name (pyDVL's {@code InversionMethod}). */
public enum InversionMethod {
    /** Full Hessian, explicit factorisation. */
    DIRECT,
    /** Conjugate gradient on Hessian-vector products. */
    CG,
    /** Linear time Stochastic Second-Order Algorithm. */
    LISSA,
    /** Low-rank eigendecomposition from a Krylov subspace. */
    ARNOLDI,
    /** Eigenvalue-corrected Kronecker-factored approximate curvature. */
    EKFAC,
    /** Randomized Nyström low-rank approximation. */
    NYSTROEM;

    /** @return the lowercase configuration name ({@code direct}, {@code cg}, ...) */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException listing the accepted names */
    public static InversionMethod parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        for (InversionMethod m : values()) {
            if (m.configName().equals(n) || ("nystrom".equals(n) && m == NYSTROEM)
                    || ("conjugategradient".equals(n) && m == CG)) {
                return m;
            }
        }
        throw new IllegalArgumentException("inversion method: unknown value '" + name + "'; use one of "
                + Arrays.stream(values()).map(InversionMethod::configName).toList());
    }
}
