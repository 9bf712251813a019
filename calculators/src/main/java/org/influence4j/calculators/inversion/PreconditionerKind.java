package org.influence4j.calculators.inversion;

import java.util.Arrays;
import java.util.Locale;

/** The preconditioners of the conjugate gradient solver (configuration names in lowercase). */
public enum PreconditionerKind {
    /** No preconditioning: {@code M = I}. */
    NONE,
    /**
     * Jacobi: {@code M = diag(A)}, the diagonal estimated with Hutchinson probes
     * ({@link JacobiPreconditioner}).
     */
    JACOBI,
    /** Randomized Nyström low-rank preconditioner ({@link NystroemPreconditioner}). */
    NYSTROEM;

    /** @return the configuration name: {@code none}, {@code jacobi} or {@code nystroem} */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException listing the accepted names */
    public static PreconditionerKind parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if ("nystrom".equals(n)) {
            return NYSTROEM;
        }
        for (PreconditionerKind k : values()) {
            if (k.configName().equals(n)) {
                return k;
            }
        }
        throw new IllegalArgumentException("preconditioner: unknown value '" + name + "'; use one of "
                + Arrays.stream(values()).map(PreconditionerKind::configName).toList());
    }
}
