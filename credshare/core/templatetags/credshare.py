from django import template

from credshare.sharing.selectors import labelled_field_values

register = template.Library()


@register.simple_tag
def share_field_values(share):
    """The share's extra field values with their labels, for the inbox and the learner."""
    return labelled_field_values(share)
