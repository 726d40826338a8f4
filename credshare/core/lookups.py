"""`__in` on an integer column ignores numbers the column cannot hold.

Django already turns `pk=99999999999999999999` into "no row" (an exact lookup out of the
column's range matches nothing), but not `pk__in=[99999999999999999999]`: SQLite's driver
raises OverflowError for an integer past 64 bits, and the request fails. Ids come in lists
from forms (a multiple choice: `documents=…`) and queries; a number no row can have is
dropped from the list here, once for every query, and the caller sees "no such row" as for
any other unknown id.
"""

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            internal_type = self.lhs.output_field.get_internal_type()
            low, high = connection.ops.integer_field_range(internal_type)
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)
