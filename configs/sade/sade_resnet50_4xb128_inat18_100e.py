# SADE (Zhang et al., NeurIPS 2022), 3 experts, ResNet-50 on iNaturalist 2018, the official run
# (Vanint/SADE-AgnosticLT configs/config_iNaturalist_resnet50_sade.json, data_loader/inaturalist_data_loaders.py):
# SADELoss with tau 1 (not 2: the backward expert's inverse prior at half strength), n_gpu 4 with a total batch of
# 512 (128 per GPU), SGD nesterov lr 0.2, momentum 0.9, weight decay 2e-4, 100 epochs, CustomLR: linear warm-up 5
# epochs, x0.1 at 60 and x0.01 at 80; RandomResizedCrop 224 + flip, iNaturalist normalisation. Test-time aggregation
# (configs/test_time_iNaturalist_resnet50_sade.json, test_training_inat.py): the MoCo-v2 views with RandomResizedCrop
# of scale 0.08-1, batch 128, SGD lr 0.2, weight decay 2e-4, 5 epochs; iNaturalist's test splits use the ratios 2
# and 3 (tools/analysis/test_agnostic.py --ratios 2 3). tools/dist_train.sh THIS_CONFIG 4
_base_ = ['./_base_/sade_resnet50.py', '../_base_/datasets/inat18.py', '../_base_/schedules/ride_100e.py',
          '../_base_/default_runtime_cls.py', './_base_/sade_views_imagenet.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}}, tau=1.0)))
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=0.2))
auto_scale_lr = dict(base_batch_size=512)
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                                              hue=0.1)], prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),  # BGR
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
test_time_aggregation = dict(
    pipeline=[dict(type='LoadImageFromFile'), dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
              dict(type='PackInputs')],
    optimizer=dict(lr=0.2, weight_decay=2e-4))
