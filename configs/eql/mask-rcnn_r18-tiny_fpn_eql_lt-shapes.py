# EQL v1 on the LT-Shapes demo (CPU, minutes): the demo detector with EqualizationLoss. LT-Shapes has 698 annotated
# training images; lambda_=0.15 makes the rare and common classes (<= 100 images) the tail, as lambda_=0.00177 does
# on LVIS v0.5.
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        loss_cls=dict(_delete_=True, type='EqualizationLoss', num_classes=30, lambda_=0.15,
                      class_stats='data/lt_shapes/annotations/lt_shapes_train.json'),
        # sigmoid classifier: bias initialised to the prior probability 0.001 (official)
        init_cfg=[dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls')),
                  dict(type='Normal', std=0.001, override=dict(name='fc_reg')),
                  dict(type='Xavier', distribution='uniform',
                       override=[dict(name='shared_fcs'), dict(name='cls_fcs'), dict(name='reg_fcs')])])))
