# The LT-Shapes demo detector with sigmoid cross-entropy over C classes plus an objectness column (ltmm's
# SigmoidCELoss; test scores p_c (1 - p_bg)): the baseline of the sigmoid losses (EQL, EQLv2, Federated, ROG) in the
# LT-Shapes detection benchmark (tools/benchmarks/lt_shapes_det.py). Same classifier init as the EQL and EQLv2
# LT-Shapes configs (bias at the prior probability 0.001), so the comparison with them isolates the loss.
_base_ = './mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        loss_cls=dict(_delete_=True, type='SigmoidCELoss', num_classes={{_base_.num_classes}}),
        init_cfg=[dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls')),
                  dict(type='Normal', std=0.001, override=dict(name='fc_reg')),
                  dict(type='Xavier', distribution='uniform',
                       override=[dict(name='shared_fcs'), dict(name='cls_fcs'), dict(name='reg_fcs')])])))
