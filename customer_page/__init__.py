"""The customer's own pages: the withdrawal function (Art. 11a of Directive 2011/83/EU) and the
return page every customer email links to, served by the gateway without JavaScript."""
