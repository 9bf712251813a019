package org.influence4j.api.inversion;

import java.io.Serial;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The name of a way of applying H⁻¹ (pyDVL's {@code InversionMethod}), as configured in
 * {@code influence.inversion.method} and as solver factories register it. The set of names is
 * <b>open</b>: the built-in methods are the constants below, and a solver factory in a plugin jar
 * may {@linkplain InverseHvpSolverFactory#method() register} any other name made with
 * {@link #of(String)}; whether a name can be used is decided by the {@link InversionRegistry}, not
 * here.
 *
 * <p>A name ({@link #configName()}) is lowercase ASCII letters and digits, starting with a letter,
 * and is not {@code method} (that word is the selector key {@code influence.inversion.method}).
 * Values are equal when their names are equal; the built-in constants are the only instances with
 * their names ({@link #of} and {@link #parse} return them, and deserialisation resolves to them),
 * so {@code ==} against a constant works as it did when this type was an enum. The natural order
 * puts the built-in methods first, in declaration order, then other names alphabetically.
 * Immutable and thread-safe.
 */
public final class InversionMethod implements Comparable<InversionMethod>, Serializable {

    @Serial
    private static final long serialVersionUID = 1L;

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*");

    /** The selector key's last word, which cannot be a method name. */
    private static final String RESERVED = "method";

    /** Full Hessian, explicit factorisation. */
    public static final InversionMethod DIRECT = new InversionMethod("direct", 0);
    /** Conjugate gradient on Hessian-vector products. */
    public static final InversionMethod CG = new InversionMethod("cg", 1);
    /** Linear time Stochastic Second-Order Algorithm. */
    public static final InversionMethod LISSA = new InversionMethod("lissa", 2);
    /** Low-rank eigendecomposition from a Krylov subspace. */
    public static final InversionMethod ARNOLDI = new InversionMethod("arnoldi", 3);
    /** Eigenvalue-corrected Kronecker-factored approximate curvature. */
    public static final InversionMethod EKFAC = new InversionMethod("ekfac", 4);
    /** Randomized Nyström low-rank approximation. */
    public static final InversionMethod NYSTROEM = new InversionMethod("nystroem", 5);

    private static final List<InversionMethod> BUILT_IN = List.of(DIRECT, CG, LISSA, ARNOLDI, EKFAC, NYSTROEM);

    /** The configuration name. */
    private final String name;
    /** Position among the built-in methods; {@link Integer#MAX_VALUE} for other names. */
    private final transient int builtInOrder;

    private InversionMethod(String name, int builtInOrder) {
        this.name = name;
        this.builtInOrder = builtInOrder;
    }

    /**
     * @param name a method name exactly as configured: lowercase letters and digits, starting with
     *             a letter, not {@code method}
     * @return the built-in constant of that name, or a new value for another name
     * @throws IllegalArgumentException naming the value and the rule when {@code name} is not a
     *     method name
     */
    public static InversionMethod of(String name) {
        if (name == null || !NAME.matcher(name).matches() || RESERVED.equals(name)) {
            throw new IllegalArgumentException("inversion method: '" + name + "' is not a method name; use lowercase"
                    + " letters and digits starting with a letter (not 'method'), e.g. " + builtInNames());
        }
        for (InversionMethod m : BUILT_IN) {
            if (m.name.equals(name)) {
                return m;
            }
        }
        return new InversionMethod(name, Integer.MAX_VALUE);
    }

    /**
     * Reads a method name as a user writes it: case, surrounding blanks, {@code -} and {@code _} are
     * ignored, and {@code nystrom} and {@code conjugate-gradient} are aliases of {@link #NYSTROEM}
     * and {@link #CG}. Any other well-formed name is accepted (it may be a plugin's method).
     *
     * @throws IllegalArgumentException naming the value and the rule when it is not a method name
     */
    public static InversionMethod parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        if ("nystrom".equals(n)) {
            return NYSTROEM;
        }
        if ("conjugategradient".equals(n)) {
            return CG;
        }
        if (!NAME.matcher(n).matches() || RESERVED.equals(n)) {
            throw new IllegalArgumentException("inversion method: '" + name + "' is not a method name; use one of "
                    + builtInNames() + " or the name of a method a plugin registers (letters and digits)");
        }
        return of(n);
    }

    /** @return the built-in methods in declaration order (a new array, as an enum's {@code values()}) */
    public static InversionMethod[] values() {
        return BUILT_IN.toArray(new InversionMethod[0]);
    }

    /** @return the built-in methods in declaration order */
    public static List<InversionMethod> builtIn() {
        return BUILT_IN;
    }

    /** @return whether this is one of the constants of this class */
    public boolean isBuiltIn() {
        return builtInOrder != Integer.MAX_VALUE;
    }

    /** @return the lowercase configuration name ({@code direct}, {@code cg}, ...) */
    public String configName() {
        return name;
    }

    /** @return the name in upper case ({@code DIRECT}, {@code CG}, ...), as the enum constant's name was */
    public String name() {
        return name.toUpperCase(Locale.ROOT);
    }

    @Override
    public int compareTo(InversionMethod other) {
        int c = Integer.compare(builtInOrder, other.builtInOrder);
        return c != 0 ? c : name.compareTo(other.name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InversionMethod m && m.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    /** @return {@link #name()}, as the enum's {@code toString()} was */
    @Override
    public String toString() {
        return name();
    }

    @Serial
    private Object readResolve() {
        return of(name);
    }

    private static String builtInNames() {
        return Arrays.toString(BUILT_IN.stream().map(InversionMethod::configName).toArray());
    }
}
