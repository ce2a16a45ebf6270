"""The benchmark's published test vectors (spec/benchmark.md §4): hand-written programs and
their exact scores on instances 0..31, summed left to right and divided by 32.

They are the one copy used by the tests (bit-for-bit checks of both engines) and by
``llmgs bench`` (its "hand" program set).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TestVector:
    """One published score: ``program`` scores exactly ``score`` on ``task``."""

    __test__ = False  # not a pytest class, despite the name

    task: str
    program: str
    score: float


TEST_VECTORS: tuple[TestVector, ...] = (
    TestVector("StairClimberSparse", "DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move "
               "turnRight move w) m)", 1.0),
    TestVector("MazeSparse", "DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( rightIsClear "
               "c) i( turnRight move i) ELSE e( IFELSE c( frontIsClear c) i( move i) ELSE e( "
               "turnLeft e) e) w) m)", 1.0),
    TestVector("FourCorners", "DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) "
               "putMarker turnLeft r) m)", 1.0),
    TestVector("FourCorners", "DEF run m( WHILE c( frontIsClear c) w( move w) putMarker "
               "putMarker m)", -0.75),
    TestVector("TopOff", "DEF run m( WHILE c( frontIsClear c) w( move IF c( markersPresent c) "
               "i( putMarker i) w) m)", 1.0),
    TestVector("TopOff", "DEF run m( WHILE c( frontIsClear c) w( move IF c( markersPresent c) "
               "i( pickMarker i) w) m)", -1.0),
    TestVector("Harvester", "DEF run m( WHILE c( markersPresent c) w( pickMarker move IF c( "
               "noMarkersPresent c) i( turnLeft move turnLeft i) w) m)", 0.0920138888888889),
    TestVector("Seeder", "DEF run m( WHILE c( noMarkersPresent c) w( putMarker move w) m)",
               0.0920138888888889),
    TestVector("OneStroke", "DEF run m( WHILE c( frontIsClear c) w( move w) m)",
               0.06517857142857143),
    TestVector("PathFollow", "DEF run m( WHILE c( markersPresent c) w( pickMarker move IF c( "
               "noMarkersPresent c) i( turnRight turnRight move turnLeft move i) w) m)",
               0.2982954545454544),
    TestVector("WallAvoider", "DEF run m( putMarker m)", -0.296875),
    TestVector("DoorKey", "DEF run m( REPEAT R=19 r( IFELSE c( markersPresent c) i( pickMarker "
               "i) ELSE e( move e) IF c( not c( frontIsClear c) c) i( turnRight i) r) m)",
               0.40625),
    TestVector("Snake", "DEF run m( REPEAT R=19 r( move turnRight move turnLeft r) m)",
               -0.996875),
    TestVector("CleanHouse", "DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( leftIsClear "
               "c) i( turnLeft move i) ELSE e( IFELSE c( frontIsClear c) i( move i) ELSE e( "
               "turnRight e) e) w) pickMarker m)", 0.09090909090909087),
)  # fmt: skip
