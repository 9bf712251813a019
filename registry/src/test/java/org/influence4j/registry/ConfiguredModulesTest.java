package org.influence4j.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Module;
import com.google.inject.multibindings.OptionalBinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.commons.configuration2.ImmutableConfiguration;
import org.influence4j.api.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code influence.guice.modules}: user modules beside InfluenceModule, e.g. one that binds the Backend. */
class ConfiguredModulesTest {

    @TempDir
    static Path dir;

    /** A user's module that replaces the configured backend. */
    public static final class BindsBackend extends AbstractModule {
        @Override
        protected void configure() {
            OptionalBinder.newOptionalBinder(binder(), Backend.class).setBinding().toInstance(new TestBackend("bound"));
        }
    }

    /** Not a module. */
    public static final class NotAModule {
    }

    /** A module whose constructor fails. */
    public static final class Failing extends AbstractModule {
        public Failing() {
            throw new IllegalStateException("no licence key");
        }
    }

    static ImmutableConfiguration config(String modules) {
        Properties system = new Properties();
        if (modules != null) {
            system.setProperty(ConfigKeys.GUICE_MODULES, modules);
        }
        return InfluenceConfiguration.load(system, Map.of(), null, dir);
    }

    @Test
    void noModulesByDefault() {
        assertEquals(List.of(), InfluenceModule.configuredModules(config(null), null));
    }

    @Test
    void aConfiguredModuleBindsTheBackend() {
        List<Module> modules = new ArrayList<>();
        modules.add(new InfluenceModule(new InfluenceSettings(TestBackendProviders.WORKING,
                org.influence4j.api.inversion.InversionMethod.DIRECT, 0.0, 512)));
        List<Module> user = InfluenceModule.configuredModules(config(BindsBackend.class.getName()), null);
        assertEquals(1, user.size());
        assertInstanceOf(BindsBackend.class, user.get(0));
        modules.addAll(user);
        assertEquals("bound", Guice.createInjector(modules).getInstance(Backend.class).name(),
                "the user's binding replaces the configured backend");
    }

    @Test
    void badClassNamesAreOneLineErrorsNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InfluenceModule.configuredModules(config("com.example.Missing"), null));
        assertTrue(e.getMessage().startsWith(ConfigKeys.GUICE_MODULES + ": class com.example.Missing is not on the"
                + " class path"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> InfluenceModule.configuredModules(config(NotAModule.class.getName()), null));
        assertTrue(e.getMessage().contains("is not a Guice module"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> InfluenceModule.configuredModules(config(Failing.class.getName()), null));
        assertTrue(e.getMessage().contains("failed") && e.getMessage().contains("no licence key"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
}
