"""The HTTP and websocket edge. Importing the package bounds every ``{name:int}`` path id of
every route (:mod:`auction.api.ids`); it must happen before any route module builds its routes,
which importing any ``auction.api.*`` module guarantees."""

from auction.api import ids

ids.register()
