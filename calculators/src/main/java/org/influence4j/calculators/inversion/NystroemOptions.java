package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Settings of the {@link NystroemSolver} (pyDVL's {@code NystroemSketchInfluence}), each declared
 * once as a {@link Setting} ({@link #SETTINGS}).
 *
 * @param rank rank r of the sketch, ≥ 1 (clipped to p; pyDVL has no default, here {@link #RANK}'s)
 * @param seed seed of the Gaussian test matrix ({@link #SEED})
 */
public record NystroemOptions(int rank, long seed) {

    /** {@code rank}: rank of the sketch. */
    public static final Setting<Integer> RANK = Setting.ofInt("rank", 10,
            "rank of the Nystroem sketch (Woodbury inverse with lambda)");
    /** {@code seed}: seed of the Gaussian test matrix. */
    public static final Setting<Integer> SEED = Setting.ofInt("seed", 0, "seed of the Gaussian test matrix");

    /** Every setting of Nyström, declared once: the configuration keys {@code influence.inversion.nystroem.*}. */
    public static final List<Setting<?>> SETTINGS = List.of(RANK, SEED);

    /** Default rank, {@link #RANK}'s default. */
    public static final int DEFAULT_RANK = RANK.defaultValue();

    /** @throws IllegalArgumentException naming the argument out of range */
    public NystroemOptions {
        if (rank < 1) {
            throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
        }
    }

    /** @return every setting at its declared default (rank 10, seed 0) */
    public static NystroemOptions defaults() {
        return from(SolverSettings.empty());
    }

    /**
     * @param settings short-keyed settings ({@link #SETTINGS}); missing ones take their defaults
     * @return the options
     * @throws IllegalArgumentException naming an unknown key or a bad value
     */
    public static NystroemOptions from(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireDeclared("nystroem", SETTINGS);
        return new NystroemOptions(s.get(RANK), s.get(SEED));
    }
}
