package org.influence4j.calculators.tracin;

import java.io.IOException;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.training.Checkpoint;
import org.influence4j.calculators.training.Checkpoints;

/**
 * Reads the flat parameters of one checkpoint (Captum's {@code checkpoints_load_func}; the
 * learning rate comes with the {@link Checkpoint}). The default reads the project's safetensors
 * or {@code .npy} parameter files ({@link Checkpoints#load}).
 */
@FunctionalInterface
public interface CheckpointLoader {

    /** The loader of {@link Checkpoints#load}. */
    CheckpointLoader DEFAULT = Checkpoints::load;

    /**
     * @return θ of length {@code spec.numParameters()} in PyTorch {@code named_parameters()} order
     * @throws IOException naming the file when it is missing, corrupt or does not fit {@code spec}
     */
    double[] load(Checkpoint checkpoint, ModelSpec spec) throws IOException;
}
