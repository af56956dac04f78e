# BCL (Zhu et al., CVPR 2022), ResNet-50 on ImageNet-LT, the official run (README command with --arch resnet50):
# the total batch of 256 on 4 GPUs (4 x 64), views `sim-sim` (randcls for the classifier, two BCL `sim` views for
# the contrast), T 0.07, alpha 1.0, beta 0.35, feat_dim 1024, cosine classifier s 30, lr 0.1, wd 5e-4, 90 epochs of
# per-epoch cosine. tools/dist_train.sh THIS_CONFIG 4
_base_ = ['./_base_/bcl_resnet50.py', '../_base_/datasets/imagenet_lt_two_view.py', './_base_/bcl_views.py',
          './_base_/bcl_90e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})),
             contrast_loss=dict(num_classes={{_base_.num_classes}}))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 2], transforms=[{{_base_.randcls_view}}, {{_base_.bcl_sim_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
