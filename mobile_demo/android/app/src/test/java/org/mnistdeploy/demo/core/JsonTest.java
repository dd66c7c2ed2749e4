package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonTest {
    @Test
    public void parsesNestedValuesInOrder() {
        Map<String, Object> m = Json.obj(Json.parse(
                " {\"b\": [1, -2.5e-3, true, null], \"a\": {\"s\": \"x\\\"y\\u00e9\\n\"}} "), "root");
        assertEquals(Arrays.asList("b", "a"), List.copyOf(m.keySet()));
        assertEquals(Arrays.asList(1.0, -2.5e-3, true, null), m.get("b"));
        assertEquals("x\"y\u00e9\n", Json.obj(m.get("a"), "a").get("s"));
    }

    @Test
    public void errorsNameTheOffset() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": [1, 2}"));
        assertTrue(e.getMessage(), e.getMessage().contains("offset 11"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1] x"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("\"open"));
    }

    @Test
    public void writeThenParseRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("f", new float[] {1.5f, -0.25f});
        m.put("n", null);
        m.put("i", 3);
        m.put("s", "tab\there \"q\"");
        m.put("nan", Double.NaN);
        Map<String, Object> back = Json.obj(Json.parse(Json.write(m)), "back");
        assertEquals(Arrays.asList(1.5, -0.25), back.get("f"));
        assertNull(back.get("n"));
        assertEquals(3.0, back.get("i"));
        assertEquals("tab\there \"q\"", back.get("s"));
        assertNull("NaN is not JSON: written as null", back.get("nan"));
    }

    @Test
    public void typedAccessorsSayWhatIsMissing() {
        Map<String, Object> m = Json.obj(Json.parse("{\"a\": 1}"), "root");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.get(m, "b", "input"));
        assertEquals("input has no \"b\"", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.str(m.get("a"), "a"));
    }
}
