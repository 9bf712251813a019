package org.influence4j.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesNestedDocument() {
        Object v = Json.parse(" {\"a\": [1, 2.5, -3e2, true, null], \"b\": {\"s\": \"x\\\"y\\u0041\\n\"}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(1L, 2.5, -300.0, true), ((List<?>) m.get("a")).subList(0, 4));
        assertEquals(null, ((List<?>) m.get("a")).get(4));
        assertEquals("x\"yA\n", ((Map<?, ?>) m.get("b")).get("s"));
    }

    @Test
    void roundTripsWhatItWrites() {
        Map<String, Object> doc = new java.util.LinkedHashMap<>();
        doc.put("name", "tab\tquote\"");
        doc.put("values", List.of(1L, 0.1, 2.0));
        doc.put("flag", false);
        assertEquals(doc.toString(), Json.parse(Json.write(doc)).toString());
    }

    @Test
    void reportsOffsetOfErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": 1,}"));
        assertTrue(e.getMessage().contains("offset"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1 2]"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1,\"a\":2}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("\"open"));
    }

    @Test
    void jsonLongerThanTheLimitIsRefusedBeforeParsing() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("[1, 2, 3]", 4));
        assertTrue(e.getMessage().contains("9 characters") && e.getMessage().contains("at most 4"), e.getMessage());
    }
}
