# EQLv2 on the LT-Shapes demo (CPU, minutes): the demo detector with EqualizationLossV2 and its defaults.
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        loss_cls=dict(_delete_=True, type='EqualizationLossV2', num_classes=30, gamma=12.0, mu=0.8, alpha=4.0),
        # sigmoid classifier: bias initialised to the prior probability 0.001 (official)
        init_cfg=[dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls')),
                  dict(type='Normal', std=0.001, override=dict(name='fc_reg')),
                  dict(type='Xavier', distribution='uniform',
                       override=[dict(name='shared_fcs'), dict(name='cls_fcs'), dict(name='reg_fcs')])])))
