package org.influence4j.cli;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.OptionalBinder;
import java.nio.file.Path;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.registry.BackendDiscovery;

/**
 * A user's Guice module, named by {@code -Dinfluence.guice.modules}: binds the {@link Backend} to
 * djl-pytorch under the name {@value #NAME}, whatever {@code --backend} says.
 */
public final class UserBackendModule extends AbstractModule {

    /** The name of the bound backend. */
    public static final String NAME = "user-bound";

    @Override
    protected void configure() {
        Backend pytorch = BackendDiscovery.load().require("djl-pytorch");
        OptionalBinder.newOptionalBinder(binder(), Backend.class).setBinding().toInstance(new Backend() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public String version() {
                return "user binding of " + pytorch.version();
            }

            @Override
            public Set<BackendCapability> capabilities() {
                return pytorch.capabilities();
            }

            @Override
            public TensorScope newScope() {
                return pytorch.newScope();
            }

            @Override
            public TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
                return pytorch.createModel(spec, parameters);
            }

            @Override
            public TwiceDifferentiable loadModel(Path file, NativeModelOptions options) {
                return pytorch.loadModel(file, options);
            }
        });
    }
}
